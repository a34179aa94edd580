/** `drover db ls|backup|backups|restore|psql`: managed databases (kind: Database) and their backups. */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import type { DatabaseView, JobRun } from "../../contract/index.js";
import { ApiClient, CliError, EXIT_FAILURE } from "../client.js";
import { databaseSizes, databaseState, lastBackup, volumeUse } from "../database-summary.js";
import { age, memory, printStructured, table } from "../output.js";

const path = (name: string) => `/api/v1/databases/${encodeURIComponent(name)}`;

export function registerDb(program: Command): void {
  const db = program.command("db").description("managed databases (kind: Database): state, size, backups, restore, a psql shell");

  db.command("ls")
    .description("list databases: ready and answering a query (or why not), port, each database's size, the volume's use, last backup (and why the last one failed)")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { output: string }) => {
      const { databases } = await new ApiClient().get<{ databases: DatabaseView[] }>("/api/v1/databases");
      if (printStructured(flags.output, databases)) return;
      if (databases.length === 0) return void process.stdout.write("no databases (apply a kind: Database descriptor)\n");
      const rows = databases.map((d) => [d.name, databaseState(d), String(d.port), databaseSizes(d), volumeUse(d), lastBackup(d)]);
      process.stdout.write(`${table(["NAME", "STATE", "PORT", "DATABASES", "VOLUME", "LAST BACKUP"], rows)}\n`);
    });

  db.command("backup")
    .description("take a backup now (the database's backup job, run by hand)")
    .argument("<name>")
    .action(async (name: string) => {
      const { run } = await new ApiClient().post<{ run: JobRun }>(`${path(name)}/backups`, {});
      process.stdout.write(`${run.job}: run ${run.number} started (drover job runs ${run.job}; drover db backups ${name})\n`);
    });

  db.command("backups")
    .description("the backups kept, newest first (in the server's home, backups/<namespace>/<name>)")
    .argument("<name>")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (name: string, flags: { output: string }) => {
      const { backups } = await new ApiClient().get<{ backups: Array<{ database: string; file: string; at: number; bytes: number }> }>(`${path(name)}/backups`);
      if (printStructured(flags.output, backups)) return;
      if (backups.length === 0) return void process.stdout.write(`no backups of ${name} yet\n`);
      process.stdout.write(`${table(["DATABASE", "FILE", "AGE", "SIZE"], backups.map((b) => [b.database, b.file, age(b.at), memory(b.bytes)]))}\n`);
    });

  db.command("restore")
    .description("restore a backup into one of its databases (what the dump holds is replaced, in one transaction); a file that is not a pg_dump custom-format dump is refused and nothing changes")
    .argument("<name>")
    .argument("<backup>", "a file name from drover db backups, or a path on the server's machine")
    .option("--database <database>", "into this database (default: the one the backup is of)")
    .action(async (name: string, file: string, flags: { database?: string }) => {
      const restored = await new ApiClient().post<{ database: string; file: string }>(`${path(name)}/restore`, { file, ...(flags.database ? { database: flags.database } : {}) });
      process.stdout.write(`${name}: ${restored.file} restored into database ${restored.database}\n`);
    });

  db.command("psql")
    .description("a psql shell on one of its databases, as its owner (--superuser: as postgres); needs psql here and an admin token")
    .argument("<name>")
    .option("--database <database>", "this database (default: its first)")
    .option("--superuser", "as the postgres superuser")
    .argument("[args...]", "more arguments for psql, after --")
    .action(async (name: string, args: string[], flags: { database?: string; superuser?: boolean }) => {
      const query = new URLSearchParams({ ...(flags.database ? { database: flags.database } : {}), ...(flags.superuser ? { superuser: "1" } : {}) });
      const { url } = await new ApiClient().get<{ url: string }>(`${path(name)}/connection?${query}`);
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn("psql", [url, ...args], { stdio: "inherit" });
        child.once("error", (error) => reject(new CliError(`cannot run psql: ${error.message} (install PostgreSQL's client, e.g. apt-get install postgresql-client)`, EXIT_FAILURE)));
        child.once("exit", (exit) => resolve(exit ?? 1));
      });
      process.exitCode = code;
    });
}
