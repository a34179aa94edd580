import type { Command } from "commander";
import { droverHome } from "../../settings.js";
import { ApiClient } from "../client.js";
import { age, color, memory } from "../output.js";
import { formatDuration } from "../../spec/units.js";
import { lastRunFailed, type AgentInfo, type DatabaseView, type JobView, type ServerRoleView } from "../../contract/index.js";
import { databaseSizes, databaseState, lastBackup, volumeUse } from "../database-summary.js";

/** Below this, replica logs and the store may fill the disk. */
const MIN_FREE_BYTES = 1024 ** 3;

interface ServerInfo {
  version: string;
  uptimeSeconds: number;
  storeLatencyMs: number;
  storeWritable: boolean;
  storeError: string | null;
  filesystem: { path: string; sizeBytes: number; freeBytes: number } | null;
  energySource: "rapl" | "model";
  agent: AgentInfo;
  role: ServerRoleView | null;
}

/** A server not heard from for this long is gone (they announce themselves every lease renewal). */
const SERVER_SILENT_MS = 15_000;

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check the set-up: server (version, uptime), store (kind, where, leader and term, every server on it), state folder and its free space, runtimes, cgroups, router, energy source, and each managed database (answers a query, sizes, last backup), jobs whose last run failed; exit 1 when something is wrong")
    .action(async () => {
      const client = new ApiClient();
      let problems = 0;
      const say = (ok: boolean, text: string) => {
        if (!ok) problems++;
        process.stdout.write(`${ok ? color.green("✓") : color.yellow("!")} ${text}\n`);
      };
      say(Number(process.versions.node.split(".")[0]) >= 20, `Node.js ${process.versions.node}`);
      say(true, `DROVER_HOME ${droverHome()}`);
      const up = await client.isUp();
      if (!up) {
        say(false, `no server at ${client.baseUrl}; "drover up" or "drover server" starts one`);
        process.exitCode = 1;
        return;
      }
      const info = await client.get<ServerInfo>("/api/v1/info");
      say(true, `server ${info.version}, pid ${up.pid} at ${client.baseUrl}, up ${formatDuration(info.uptimeSeconds * 1000)}`);
      say(info.storeWritable && info.storeLatencyMs < 100, info.storeWritable ? `store takes writes (${info.storeLatencyMs} ms to lock and release)` : `store cannot be written: ${info.storeError}`);
      if (info.role) reportRole(info.role, say);
      if (info.filesystem) {
        const free = info.filesystem.freeBytes / info.filesystem.sizeBytes;
        say(info.filesystem.freeBytes > MIN_FREE_BYTES && free > 0.05, `${memory(info.filesystem.freeBytes)} free (${(free * 100).toFixed(0)}%) where DROVER_HOME is`);
      }
      for (const detail of info.agent.details) say(!/not enforced|not available|not writable|refused|no Docker Engine/.test(detail), detail);
      say(true, `energy figures: ${info.energySource === "rapl" ? "measured (RAPL)" : "estimated by the utilisation model (no readable RAPL)"}`);
      const { databases } = await client.get<{ databases: DatabaseView[] }>("/api/v1/databases");
      for (const d of databases) reportDatabase(d, say);
      const { jobs } = await client.get<{ jobs: JobView[] }>("/api/v1/jobs");
      reportJobs(jobs, say);
      if (problems > 0) process.exitCode = 1;
    });
}

function reportRole(role: ServerRoleView, say: (ok: boolean, text: string) => void): void {
  say(true, `store ${role.store.dialect} ${role.store.location}, schema ${role.store.schema}`);
  const now = Date.now();
  const lease = role.lease;
  if (!lease || lease.expiresAt <= now) say(false, "no server leads now: controllers are not running (a standby takes the lease within its length)");
  else say(true, `leader ${lease.holder}${lease.holder === role.server ? " (this server)" : ""}, term ${lease.term}, since ${new Date(lease.since).toISOString()}, lease for ${((lease.expiresAt - now) / 1000).toFixed(1)}s more`);
  for (const server of role.servers) {
    const silent = now - server.seenAt;
    const what = `${server.id === lease?.holder ? "leader " : "standby"} ${server.id} ${server.url}${server.clusterUrl ? `, agents ${server.clusterUrl}` : ""}, ${server.version}, seen ${formatDuration(Math.max(0, silent))} ago`;
    say(silent < SERVER_SILENT_MS, silent < SERVER_SILENT_MS ? what : `${what} (gone?)`);
  }
}

/** One line per managed database: a problem when it does not answer or its last backup failed. */
function reportDatabase(d: DatabaseView, say: (ok: boolean, text: string) => void): void {
  const answered = d.reachable ? `${d.serverVersion}, answered in ${d.latencyMs} ms` : databaseState(d);
  const failed = d.backups.schedule !== null && lastRunFailed(d.backups);
  say(d.reachable && !failed, `database ${d.name} (port ${d.port}): ${answered}; ${databaseSizes(d)}; volume ${volumeUse(d)}; last backup ${lastBackup(d)}`);
}

/** Jobs that stopped succeeding (a failure newer than the last success) are problems; the others one line in all. */
function reportJobs(jobs: JobView[], say: (ok: boolean, text: string) => void): void {
  const failing = jobs.filter((j) => lastRunFailed(j.status));
  for (const job of failing) say(false, `job ${job.name}: last run failed ${age(job.status.lastFailureAt)} ago${job.status.lastSuccessAt ? `, last success ${age(job.status.lastSuccessAt)} ago` : ", never succeeded"} (drover job runs ${job.name})`);
  if (jobs.length > 0 && failing.length === 0) say(true, `${jobs.length} job(s), none failing`);
}
