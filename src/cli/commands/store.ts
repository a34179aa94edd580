/** `drover store migrate`: all state from one store to another (SQLite to PostgreSQL, typically). */
import type { Command } from "commander";
import { CliError, EXIT_USAGE } from "../client.js";
import { droverHome } from "../../settings.js";

export function registerStore(program: Command): void {
  const store = program.command("store").description("the store that holds drover's state: move it from one kind to another");
  store
    .command("migrate")
    .description("copy all state (services, revisions, config maps, secrets still sealed, policies, tokens' hashes, the audit chain, events, nodes, history) from one store to an empty one, in one transaction")
    .requiredOption("--from <store>", "sqlite:PATH (a server's DROVER_HOME/drover.db) or postgres://…")
    .requiredOption("--to <store>", "postgres://user:password@host:5432/database, or sqlite:PATH")
    .option("--replace", "empty the target first (it has state already)")
    .addHelpText(
      "after",
      `
Stop the server that uses the source first (a SQLite store in use is refused). Secrets move
sealed: the servers on the new store need the same master key (DROVER_MASTER_KEY, or the same
master.key in their DROVER_HOME). The copy is one transaction: interrupted (even by kill -9) it
leaves the target as it was, and running it again completes it.

Example:
  drover store migrate --from sqlite:$HOME/.drover/drover.db --to postgres://drover:secret@db:5432/drover
  drover server --store postgres://drover:secret@db:5432/drover --cluster-listen 0.0.0.0:7443`,
    )
    .action(async (flags: { from: string; to: string; replace?: boolean }) => {
      const { isPostgresUrl } = await import("../../store/postgres/postgres-url.js");
      for (const [flag, value] of [["--from", flags.from], ["--to", flags.to]] as const) {
        if (!isPostgresUrl(value) && !value.startsWith("sqlite:")) throw new CliError(`${flag} ${value}: expected sqlite:PATH or postgres://user:password@host:5432/database`, EXIT_USAGE);
      }
      if (flags.from === flags.to) throw new CliError("--from and --to name the same store", EXIT_USAGE);
      const { migrateStore } = await import("../../store/migrate-store.js");
      const copied = await migrateStore(flags.from, flags.to, { replace: flags.replace ?? false, home: droverHome() });
      const counts = Object.entries(copied.rows).filter(([, n]) => n > 0).map(([table, n]) => `${n} ${table}`).join(", ");
      process.stdout.write(`copied ${copied.services} services from ${copied.from} to ${copied.to}${counts ? ` (${counts})` : ""}\n`);
      process.stdout.write("next: start the servers with --store and the --to location, and the same master key\n");
    });
}
