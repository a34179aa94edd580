/**
 * Where PostgreSQL's programs are: Debian keeps each major version's under
 * /usr/lib/postgresql/<major>/bin (only some are also on PATH); elsewhere they are on PATH.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export type PostgresProgram = "initdb" | "postgres" | "pg_ctl" | "pg_dump" | "pg_restore" | "psql" | "pg_isready";

const DEBIAN = "/usr/lib/postgresql";

/** The installed major versions, newest first. */
export function postgresVersions(): string[] {
  return fs.existsSync(DEBIAN) ? fs.readdirSync(DEBIAN).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
}

/** The program of that major version (any, newest first, when none is asked); null when it is not installed. */
export function findPostgresProgram(name: PostgresProgram, version?: string): string | null {
  for (const v of version ? [version] : postgresVersions()) {
    const candidate = path.join(DEBIAN, v, "bin", name);
    if (fs.existsSync(candidate)) return candidate;
  }
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (!onPath) return null;
  if (!version) return onPath;
  // On PATH: only if it is the version asked for.
  const reported = spawnSync(onPath, ["--version"], { encoding: "utf8" }).stdout;
  return new RegExp(`\\s${version}(\\.|\\s|$)`).test(reported) ? onPath : null;
}

export function postgresProgram(name: PostgresProgram, version?: string): string {
  const found = findPostgresProgram(name, version);
  if (!found) throw new Error(`PostgreSQL${version ? ` ${version}` : ""}'s ${name} is not installed (Debian: apt-get install postgresql${version ? `-${version}` : ""})`);
  return found;
}
