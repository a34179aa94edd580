/** What a store dump holds, in the order rows are loaded, and the check a dump file passes before anything is loaded. */
import type { StoreDump } from "./store.js";

/**
 * Every table with state worth keeping, parents first. Not dumped: the leader lease and the
 * server list (they describe the running servers, not the cluster's state).
 */
export const DUMPED_TABLES = [
  "services", "revisions", "replicas", "config_objects", "policies", "rollouts", "metric_minutes", "events",
  "tokens", "audit", "nodes", "join_tokens", "settings", "node_pools", "pool_instances", "pool_transitions", "jobs", "job_runs", "volumes",
] as const;

/** A parsed dump, or the reason it is not one. */
export function checkDump(value: unknown): StoreDump {
  const dump = value as StoreDump | null;
  if (!dump || typeof dump !== "object" || dump.format !== "drover-store-v1" || typeof dump.tables !== "object" || dump.tables === null) {
    throw new Error("not a drover store dump (format drover-store-v1)");
  }
  for (const [table, rows] of Object.entries(dump.tables)) {
    if (!(DUMPED_TABLES as readonly string[]).includes(table)) throw new Error(`the dump has an unknown table "${table}"`);
    if (!Array.isArray(rows)) throw new Error(`the dump's table "${table}" is not a list of rows`);
  }
  return dump;
}

/** Column names come from the dump's rows: only names a table has are accepted, so a crafted dump cannot inject SQL. */
export function checkColumns(table: string, row: Record<string, unknown>, known: Set<string>): string[] {
  const columns = Object.keys(row);
  const unknown = columns.find((c) => !known.has(c));
  if (unknown) throw new Error(`the dump's table "${table}" has a column "${unknown}" this drover does not know`);
  return columns;
}
