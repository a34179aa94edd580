/** Admin commands: `drover token`, `drover secret`, `drover backup`/`restore` and `drover audit [verify]`. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import type { AuditRecord, TokenRecord } from "../../contract/index.js";
import type { ChainVerdict } from "../../security/audit-chain.js";
import { ApiClient, CliError, EXIT_USAGE } from "../client.js";
import { isPostgresUrl } from "../../store/postgres/postgres-url.js";
import { restoreBackup, restoreBackupInto, RestoreError, type RestoreSummary } from "../../security/backup.js";
import { HomeLockedError, lockHome } from "../../store/sqlite/home-lock.js";
import { droverHome } from "../../settings.js";
import { age, color, printStructured, table } from "../output.js";

type ShownToken = Omit<TokenRecord, "hash">;

export function registerSecurity(program: Command): void {
  const token = program.command("token").description("API tokens with roles: viewer reads; operator also applies, scales, restarts, rolls back; admin also manages tokens, secrets, policies, audit, backups");
  token
    .command("create")
    .description("make a token and print it once (only its hash is kept)")
    .argument("<name>", "a name for the token: who or what uses it")
    .requiredOption("--role <role>", "viewer, operator or admin")
    .option("--expires <lifetime>", "e.g. 30d, 12h, 90m (default: never)")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, flags: { role: string; expires?: string; output: string }) => {
      const created = await new ApiClient().post<ShownToken & { token: string }>("/api/v1/tokens", { name, role: flags.role, ...(flags.expires ? { expires: flags.expires } : {}) });
      if (printStructured(flags.output, created)) return;
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(`token "${created.name}" (${created.role}${created.expiresAt ? `, expires ${new Date(created.expiresAt).toISOString()}` : ""}): shown once, keep it now (DROVER_TOKEN=… for the CLI)\n`);
    });
  token
    .command("list")
    .description("tokens: name, role, created, expiry, last use, revoked (never the token)")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { output: string }) => {
      const { tokens } = await new ApiClient().get<{ tokens: ShownToken[] }>("/api/v1/tokens");
      if (printStructured(flags.output, tokens)) return;
      const now = Date.now();
      const when = (t: number | null) => (t === null ? "-" : `${age(t, now)} ago`);
      process.stdout.write(
        `${table(
          ["NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED", "STATE"],
          tokens.map((t) => [t.name, t.role, when(t.createdAt), t.expiresAt === null ? "never" : new Date(t.expiresAt).toISOString(), when(t.lastUsedAt), t.revokedAt !== null ? color.red("revoked") : t.expiresAt !== null && t.expiresAt <= now ? color.red("expired") : color.green("active")]),
        )}\n`,
      );
    });
  token
    .command("revoke")
    .description("revoke a token at once (its name stays taken)")
    .argument("<name>")
    .action(async (name: string) => {
      await new ApiClient().delete(`/api/v1/tokens/${encodeURIComponent(name)}`);
      process.stdout.write(`token "${name}" revoked\n`);
    });

  const secret = program.command("secret").description("secrets, encrypted at rest: set keys, list names and keys (never values), delete");
  const collect = (value: string, previous: string[]) => [...previous, value];
  secret
    .command("set")
    .description("set keys of a secret (creating it); services that use it roll out a new revision. Values on the command line show in `ps`: prefer --from-file or --from-env")
    .argument("<name>", "name or namespace/name (namespace default)")
    .argument("[pairs...]", "KEY=VALUE")
    .option("--from-file <key=path>", "a key whose value is a file's content (repeatable)", collect, [])
    .option("--from-env <key=variable>", "a key whose value is an environment variable's (repeatable)", collect, [])
    .option("--replace", "the given keys become the whole secret (others are removed)")
    .action(async (name: string, pairs: string[], flags: { fromFile: string[]; fromEnv: string[]; replace?: boolean }) => {
      const data: Record<string, string> = {};
      for (const pair of pairs) data[keyOf(pair, "KEY=VALUE")] = pair.slice(pair.indexOf("=") + 1);
      for (const pair of flags.fromFile) data[keyOf(pair, "KEY=PATH")] = readInput(pair.slice(pair.indexOf("=") + 1)).toString("utf8");
      for (const pair of flags.fromEnv) {
        const variable = pair.slice(pair.indexOf("=") + 1);
        const value = process.env[variable];
        if (value === undefined) throw new CliError(`--from-env ${pair}: the variable ${variable} is not set`, 2);
        data[keyOf(pair, "KEY=VARIABLE")] = value;
      }
      if (Object.keys(data).length === 0) throw new CliError("give at least one KEY=VALUE, --from-file or --from-env", 2);
      const qualified = name.includes("/") ? name : `default/${name}`;
      const result = await new ApiClient().put<{ name: string; version: number; changedKeys: string[]; services: Array<{ name: string; revision: number }> }>(`/api/v1/secrets/${encodeURIComponent(qualified)}`, { data, replace: flags.replace ?? false, author: os.userInfo().username });
      if (result.changedKeys.length === 0) return void process.stdout.write(`secret ${result.name} unchanged\n`);
      process.stdout.write(`secret ${result.name} version ${result.version}: ${result.changedKeys.join(", ")} changed\n`);
      for (const s of result.services) process.stdout.write(`  ${s.name} → revision ${s.revision} (rolls out)\n`);
    });
  secret
    .command("list")
    .description("secrets: name, keys, version, last change, the services that use them (never values)")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { output: string }) => {
      const { secrets } = await new ApiClient().get<{ secrets: Array<{ name: string; keys: string[]; version: number; updatedAt: number; usedBy: string[] }> }>("/api/v1/secrets");
      if (printStructured(flags.output, secrets)) return;
      process.stdout.write(`${table(["SECRET", "KEYS", "VERSION", "CHANGED", "USED BY"], secrets.map((s) => [s.name, s.keys.join(","), String(s.version), `${age(s.updatedAt)} ago`, s.usedBy.join(",") || "-"]))}\n`);
    });
  secret
    .command("delete")
    .description("delete a secret that no service uses")
    .argument("<name>", "name or namespace/name")
    .action(async (name: string) => {
      const qualified = name.includes("/") ? name : `default/${name}`;
      await new ApiClient().delete(`/api/v1/secrets/${encodeURIComponent(qualified)}`);
      process.stdout.write(`secret ${qualified} deleted\n`);
    });

  program
    .command("backup")
    .description("write a consistent snapshot of all state (services, revisions, config, secrets still encrypted, tokens' hashes, audit, history) to FILE while drover runs")
    .argument("<file>", "where to write it (mode 0600)")
    .option("--include-key", "include the master key: the backup then opens every secret by itself; keep it like the key")
    .action(async (file: string, flags: { includeKey?: boolean }) => {
      const bytes = await new ApiClient().postForBytes("/api/v1/backup", { includeKey: flags.includeKey ?? false });
      fs.writeFileSync(file, bytes, { mode: 0o600 });
      process.stdout.write(`wrote ${file} (${bytes.length} bytes${flags.includeKey ? ", with the master key" : "; without the master key: restoring needs the same master.key or DROVER_MASTER_KEY"})\n`);
    });
  program
    .command("restore")
    .description("restore a backup (of either store) into DROVER_HOME, where no server may run, or into a PostgreSQL store no server uses (--store); refuses one with state unless --force. Then `drover up` (or the servers) start what it describes")
    .argument("<file>", "a file written by drover backup")
    .option("--force", "replace the state (and key) this home or store has")
    .option("--store <url>", "restore into this PostgreSQL store (postgres://…; default $DROVER_STORE) instead of DROVER_HOME; the servers need the backup's master key")
    .action(async (file: string, flags: { force?: boolean; store?: string }) => {
      const home = droverHome();
      const storeUrl = flags.store ?? (process.env.DROVER_STORE || undefined);
      try {
        const restored = storeUrl ? await restoreIntoStore(file, storeUrl, home, flags.force ?? false) : await restoreIntoHome(file, home, flags.force ?? false);
        const where = storeUrl ? "the store" : home;
        process.stdout.write(`restored ${restored.services} services and ${restored.secrets} secrets from a backup of ${new Date(restored.createdAt).toISOString()} into ${where}${restored.keyRestored ? " (with its master key)" : ""}; ${storeUrl ? "the servers start them" : "drover up starts them"}\n`);
      } catch (error) {
        if (error instanceof RestoreError) throw new CliError(`cannot restore ${file}: ${error.message}`, 2);
        throw error;
      }
    });

  const audit = program
    .command("audit")
    .description("the audit trail: every change with who (token and role), what, to which object, when")
    .option("--since <duration>", "only entries newer than this, e.g. 1h, 7d (default: all)")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { since?: string; output: string }) => {
      const query = flags.since ? `?since=${encodeURIComponent(flags.since)}` : "";
      const { entries } = await new ApiClient().get<{ entries: AuditRecord[] }>(`/api/v1/audit${query}`);
      if (printStructured(flags.output, entries)) return;
      process.stdout.write(`${table(["#", "TIME", "WHO", "ACTION", "OBJECT", "SUMMARY"], entries.map((e) => [String(e.seq), new Date(e.time).toISOString(), `${e.actor} (${e.role})`, e.action, e.object, e.summary]))}\n`);
    });
  audit
    .command("verify")
    .description("check the trail's hash chain: exit 1 naming the first entry edited, deleted or out of order")
    .action(async () => {
      const verdict = await new ApiClient().get<ChainVerdict>("/api/v1/audit/verify");
      if (!verdict.ok) throw new CliError(`the audit trail was tampered with: ${verdict.problem} (${verdict.entries} entries read)`);
      process.stdout.write(`${color.green("✓")} the audit trail is intact: ${verdict.entries} entries, each chained to the one before\n`);
    });
}

function keyOf(pair: string, form: string): string {
  const eq = pair.indexOf("=");
  // The argument itself is not echoed: it may hold a value.
  if (eq < 1) throw new CliError(`expected ${form}: an argument has no key before "="`, 2);
  return pair.slice(0, eq);
}


/** A file the user named; a clear error (exit 2) when it cannot be read. */
function readInput(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
}


async function restoreIntoHome(file: string, home: string, force: boolean): Promise<RestoreSummary> {
  fs.mkdirSync(home, { recursive: true });
  let lock: { release(): void };
  try {
    lock = lockHome(path.join(home, "server.lock"));
  } catch (error) {
    if (error instanceof HomeLockedError) throw new CliError(`a drover server is running on ${home}: stop it first (drover down)`);
    throw error;
  }
  try {
    return await restoreBackup(readInput(file), home, force);
  } finally {
    lock.release();
  }
}

async function restoreIntoStore(file: string, url: string, home: string, force: boolean): Promise<RestoreSummary> {
  if (!isPostgresUrl(url)) throw new CliError(`--store ${url}: expected postgres://user:password@host:5432/database (a SQLite store is restored into its DROVER_HOME)`, EXIT_USAGE);
  const bytes = readInput(file);
  const { PostgresStore } = await import("../../store/postgres/postgres-store.js");
  // No cipher: rows move as they are (secrets stay sealed); the key is checked against them first.
  const store = await PostgresStore.open(url);
  try {
    return await restoreBackupInto(bytes, store, home, force);
  } finally {
    await store.close();
  }
}
