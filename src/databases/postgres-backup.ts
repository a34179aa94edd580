/**
 * Backups of a managed PostgreSQL: one `pg_dump` in custom format per database into the backup
 * folder (written under a temporary name, renamed once complete, so a half-written dump never
 * looks like a backup), then retention; and restore from such a dump, refusing anything else
 * before the database is touched. A failure is never silent: the program exits non-zero with the
 * reason (the job's run fails: an event, /metrics) and tells the webhook when one is set.
 *
 * As a program (the backup cron job's command), its environment: DROVER_BACKUP_DIR,
 * DROVER_BACKUP_DATABASES (comma-separated), DROVER_BACKUP_RETAIN ({count, days}), PGHOST, PGPORT,
 * PGUSER, PGPASSWORD, DROVER_PG_VERSION (optional), DROVER_BACKUP_WEBHOOK (optional).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { postgresProgram } from "./postgres-bin.js";

export interface Retention {
  /** Backups kept per database, newest first. */
  count?: number;
  /** Backups older than this many days go. */
  days?: number;
}

export interface BackupFile {
  database: string;
  file: string;
  at: number;
  bytes: number;
}

const DUMP = /^(.+)-(\d{8}T\d{6}Z)\.dump$/;

/** `shop-20260101T030000Z.dump`: the database and the time, sortable as text. */
export function backupName(database: string, at: number): string {
  return `${database}-${new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z")}.dump`;
}

export function listBackups(dir: string): BackupFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .flatMap((name) => {
      const match = DUMP.exec(name);
      if (!match) return [];
      const stamp = match[2]!;
      const at = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`);
      return [{ database: match[1]!, file: path.join(dir, name), at, bytes: fs.statSync(path.join(dir, name)).size }];
    })
    .sort((a, b) => b.at - a.at);
}

/**
 * Which backups retention removes: per database, those beyond the newest `count` and those older
 * than `days` — but never the newest one, so a database always keeps a backup.
 */
export function prunable(backups: BackupFile[], retain: Retention, now: number): BackupFile[] {
  const doomed: BackupFile[] = [];
  for (const database of new Set(backups.map((b) => b.database))) {
    const own = backups.filter((b) => b.database === database).sort((a, b) => b.at - a.at);
    own.forEach((backup, index) => {
      if (index === 0) return;
      const tooMany = retain.count !== undefined && index >= retain.count;
      const tooOld = retain.days !== undefined && now - backup.at > retain.days * 86_400_000;
      if (tooMany || tooOld) doomed.push(backup);
    });
  }
  return doomed;
}

/** Runs a program to its end; rejects with its last lines of output when it fails or cannot start. */
function run(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once("error", (error) => reject(new Error(`${path.basename(program)} could not run: ${error.message}`)));
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(program)} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").slice(-3).join(" / ") || "no output"}`));
    });
  });
}

/** One dump of `database` into `dir`; the file appears only once complete. */
export async function dumpDatabase(dir: string, database: string, now: number, version?: string, env: NodeJS.ProcessEnv = process.env): Promise<BackupFile> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, backupName(database, now));
  const partial = `${file}.partial`;
  try {
    await run(postgresProgram("pg_dump", version), ["--format=custom", "--file", partial, "--dbname", database], env);
    // pg_dump can exit 0 having written nothing (a full disk, seen here): a dump counts once it reads back.
    if (!isCustomDump(partial)) {
      const wrote = fs.existsSync(partial) ? `${fs.statSync(partial).size} bytes that are not a dump` : "no file";
      throw new Error(`pg_dump exited 0 but wrote ${wrote} (is ${dir}'s disk full?)`);
    }
    await run(postgresProgram("pg_restore", version), ["--list", partial], env).catch((error: Error) => {
      throw new Error(`the dump does not read back (is ${dir}'s disk full?): ${error.message}`);
    });
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return { database, file, at: now, bytes: fs.statSync(file).size };
}

/** A custom-format dump starts with these bytes; anything else is refused before a restore touches the database. */
export function isCustomDump(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(5);
    return fs.readSync(fd, head, 0, 5, 0) === 5 && head.toString("latin1") === "PGDMP";
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Restores `file` into `database`: objects in the dump are dropped and recreated (what the dump
 * does not hold is left alone) with their owners, in one transaction, so a failure leaves the
 * database as it was. Run as a superuser (the roles of the dump exist: drover made them).
 */
export async function restoreDatabase(file: string, database: string, version?: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist`);
  if (!isCustomDump(file)) throw new Error(`${file} is not a pg_dump custom-format backup (it does not start with PGDMP): nothing was restored`);
  await run(postgresProgram("pg_restore", version), ["--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--dbname", database, file], env);
}

async function main(): Promise<void> {
  const dir = process.env.DROVER_BACKUP_DIR;
  const databases = (process.env.DROVER_BACKUP_DATABASES ?? "").split(",").filter(Boolean);
  if (!dir || databases.length === 0) throw new Error("DROVER_BACKUP_DIR and DROVER_BACKUP_DATABASES must be set");
  const retain = JSON.parse(process.env.DROVER_BACKUP_RETAIN ?? "{}") as Retention;
  const version = process.env.DROVER_PG_VERSION || undefined;
  const now = Date.now();
  const failures: string[] = [];
  for (const database of databases) {
    try {
      const backup = await dumpDatabase(dir, database, now, version);
      process.stdout.write(`backup of ${database}: ${path.basename(backup.file)} (${backup.bytes} bytes)\n`);
    } catch (error) {
      failures.push(`${database}: ${(error as Error).message}`);
    }
  }
  for (const old of prunable(listBackups(dir), retain, now)) {
    fs.rmSync(old.file, { force: true });
    process.stdout.write(`pruned ${path.basename(old.file)} (retention)\n`);
  }
  if (failures.length === 0) return;
  const message = `backup failed: ${failures.join("; ")}`;
  const webhook = process.env.DROVER_BACKUP_WEBHOOK;
  if (webhook) {
    await fetch(webhook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ event: "BackupFailed", databases, message, at: new Date(now).toISOString() }), signal: AbortSignal.timeout(10_000) }).catch((error: Error) => process.stderr.write(`the webhook ${webhook} could not be told: ${error.message}\n`));
  }
  throw new Error(message);
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
