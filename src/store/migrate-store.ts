/**
 * All state from one store to another, as rows (secrets stay sealed, the audit chain keeps its
 * hashes): a dump of the source in one read transaction, loaded into the target in one write
 * transaction. A SQLite source must not be in use by a server (its home lock is taken).
 */
import fs from "node:fs";
import path from "node:path";
import { HomeLockedError, lockHome } from "./sqlite/home-lock.js";
import { openStore, sqlitePath } from "./open-store.js";
import type { Store } from "./store.js";

export interface MigrateResult {
  from: string;
  to: string;
  services: number;
  rows: Record<string, number>;
}

export async function migrateStore(from: string, to: string, options: { replace: boolean; home: string }): Promise<MigrateResult> {
  let lock: { release(): void } | null = null;
  if (from.startsWith("sqlite:")) {
    if (!fs.existsSync(sqlitePath(from, options.home))) throw new Error(`${from}: no such file`);
    try {
      lock = lockHome(path.join(path.dirname(sqlitePath(from, options.home)), "server.lock"));
    } catch (error) {
      if (error instanceof HomeLockedError) throw new Error(`a drover server is using ${from}: stop it first (drover down, or stop the service that runs it)`);
      throw error;
    }
  }
  // No cipher on either side: rows are copied as stored, so secrets move sealed and no key is needed here.
  const opened: Store[] = [];
  try {
    const source = await openStore(from, options.home, null);
    opened.push(source);
    const target = await openStore(to, options.home, null);
    opened.push(target);
    const dump = await source.dump();
    // The replicas ran where the old server was; the new servers start their own. (The old
    // server's own node keeps its record: a server's node on this machine takes it over.)
    await target.load({ ...dump, tables: { ...dump.tables, replicas: [] } }, { replace: options.replace }).catch((error: Error) => {
      throw new Error(`${target.description.location}: ${error.message}${options.replace ? "" : " (--replace empties it first)"}`);
    });
    const rows = Object.fromEntries(Object.entries(dump.tables).map(([table, list]) => [table, table === "replicas" ? 0 : list.length]));
    return { from: source.description.location, to: target.description.location, services: rows.services ?? 0, rows };
  } finally {
    for (const store of opened) await store.close();
    lock?.release();
  }
}
