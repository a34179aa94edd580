/**
 * drover's own programs, named `drover:<program>` in a command (a managed database's replica and
 * backup): each node's agent runs them from its own installation with its own Node.js, so the
 * same descriptor works on every node whatever its paths. PostgreSQL refuses to run as root: where
 * the agent is root and no run_as_user is given, the database runs as the `postgres` system user.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LaunchError } from "./drivers/driver.js";

const PROGRAMS: Record<string, string> = {
  "postgres-replica": "../databases/postgres-replica.js",
  "postgres-backup": "../databases/postgres-backup.js",
};

export interface BuiltinLaunch {
  command: string[];
  env: Record<string, string>;
  user?: { uid?: number; gid?: number };
}

/** The launch with a `drover:` program resolved; any other launch as it is. */
export function resolveBuiltin(launch: BuiltinLaunch, agentDir: string): BuiltinLaunch {
  const first = launch.command[0];
  if (!first?.startsWith("drover:")) return launch;
  const name = first.slice("drover:".length);
  const file = PROGRAMS[name];
  if (!file) throw new LaunchError(`unknown drover program "${name}" (known: ${Object.keys(PROGRAMS).join(", ")})`, 127);
  const command = [process.execPath, fileURLToPath(new URL(file, import.meta.url)), ...launch.command.slice(1)];
  const env = { ...launch.env };
  let user = launch.user;
  if (name === "postgres-replica" && user?.uid === undefined && process.getuid?.() === 0) user = systemUser("postgres");
  if (name === "postgres-backup") {
    // Backups go to this node's drover home: DROVER_HOME/backups/<namespace>/<database>.
    env.DROVER_BACKUP_DIR ??= path.join(path.dirname(agentDir), "backups", env.DROVER_BACKUP_SUBDIR ?? "unnamed");
    if (env.POSTGRES_PASSWORD) env.PGPASSWORD ??= env.POSTGRES_PASSWORD;
  }
  return { command, env, ...(user ? { user } : {}) };
}

function systemUser(name: string): { uid: number; gid: number } {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) throw new LaunchError(`PostgreSQL will not run as root and there is no "${name}" user on this node to run it as (install PostgreSQL's server package, or set run_as_user)`, 126);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
