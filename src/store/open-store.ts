/**
 * The store a server uses: SQLite in DROVER_HOME by default, or PostgreSQL when given a URL
 * (`drover server --store`, DROVER_STORE). PostgreSQL's client is loaded only then.
 */
import path from "node:path";
import type { Store, ValueCipher } from "./store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import { isPostgresUrl } from "./postgres/postgres-url.js";

export const SQLITE_FILE = "drover.db";

/**
 * `location`: a postgres:// URL, `sqlite:PATH`, or empty for DROVER_HOME/drover.db.
 * @throws with what is wrong with the location or what failed opening it.
 */
export async function openStore(location: string | undefined, home: string, cipher: ValueCipher | null, log: (message: string) => void = () => undefined): Promise<Store> {
  if (location && isPostgresUrl(location)) {
    const { PostgresStore } = await import("./postgres/postgres-store.js");
    return PostgresStore.open(location, { cipher, log });
  }
  return new SqliteStore(sqlitePath(location, home), Date.now, cipher);
}

/** The SQLite file a location names (DROVER_HOME/drover.db when none). @throws for a location that is neither. */
export function sqlitePath(location: string | undefined, home: string): string {
  if (!location) return path.join(home, SQLITE_FILE);
  if (location.startsWith("sqlite:")) return path.resolve(location.slice("sqlite:".length));
  throw new Error(`the store "${location}" is neither postgres://… nor sqlite:PATH`);
}

export function isClustered(store: Store): boolean {
  return store.description.dialect === "postgres";
}
