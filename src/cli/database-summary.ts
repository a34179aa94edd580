/** How the CLI words a managed database's state, size and last backup (`drover db ls` and `drover doctor`). */
import { lastRunFailed, type DatabaseView } from "../contract/index.js";
import { age, color, memory } from "./output.js";

export function databaseState(d: DatabaseView): string {
  if (d.ready && d.reachable) return color.green("ready");
  if (!d.reachable) return color.red(`unreachable: ${d.reachError ?? "no answer"}`);
  return color.yellow("not ready");
}

/** `shop 7.6 MiB, audit 7.4 MiB`: each database's size on disk, `?` where it did not answer. */
export function databaseSizes(d: DatabaseView): string {
  return d.databases.map((x) => `${x.name} ${x.bytes === null ? "?" : memory(x.bytes)}`).join(", ");
}

export function volumeUse(d: DatabaseView): string {
  return d.usedBytes === null ? "?" : `${memory(d.usedBytes)}${d.sizeBytes ? ` of ${memory(d.sizeBytes)}` : ""}`;
}

export function lastBackup(d: DatabaseView): string {
  const { backups } = d;
  if (!backups.schedule) return color.dim("no backups set");
  const latest = !backups.here
    ? `${backups.lastSuccessAt ? `${age(backups.lastSuccessAt)} ago` : "none yet"} (kept on node ${backups.node})`
    : backups.latest
      ? `${age(backups.latest.at)} ago, ${memory(backups.latest.bytes)} (${backups.count} kept)`
      : "none yet";
  return lastRunFailed(backups) ? color.red(`FAILED ${age(backups.lastFailureAt)} ago: ${backups.lastFailure ?? "see drover job runs"}; last good ${latest}`) : latest;
}
