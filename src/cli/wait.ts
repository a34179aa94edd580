/** Following services until they are all ready, or one of them fails. */
import type { EventRecord, ServiceSummary } from "../contract/index.js";
import { ApiClient, CliError } from "./client.js";
import { progress } from "./output.js";

const FAILED = new Set(["crash_loop", "failed", "image_unavailable", "runtime_unavailable"]);
/**
 * Unschedulable is not final (the replica is placed as soon as a node fits): a node may be a
 * moment from ready (joining, or a heartbeat late on a busy machine). Past this long it is a
 * failure, since waiting would not end by itself.
 */
const UNSCHEDULABLE_GRACE_MS = 15_000;

export async function waitForReady(client: ApiClient, names: string[], timeoutMs: number): Promise<ServiceSummary[]> {
  const bar = progress();
  const deadline = Date.now() + timeoutMs;
  const unschedulableSince = new Map<string, number>();
  try {
    while (true) {
      const { services } = await client.get<{ services: ServiceSummary[] }>("/api/v1/services");
      const watched = services.filter((s) => names.includes(s.name));
      const ready = watched.filter((s) => s.status === "ready");
      const now = Date.now();
      for (const s of watched) {
        if (s.status !== "unschedulable") unschedulableSince.delete(s.name);
        else if (!unschedulableSince.has(s.name)) unschedulableSince.set(s.name, now);
      }
      const failed = watched.filter((s) => FAILED.has(s.status) || now - (unschedulableSince.get(s.name) ?? now) >= UNSCHEDULABLE_GRACE_MS);
      const replicas = watched.reduce((n, s) => n + s.ready, 0);
      const wanted = watched.reduce((n, s) => n + s.desired, 0);
      bar.update(`${ready.length}/${watched.length} services ready, ${replicas}/${wanted} replicas`);
      if (failed.length > 0) {
        bar.done();
        const reasons = await Promise.all(failed.map((s) => s.problem ?? lastProblem(client, s.name)));
        throw new CliError(failed.map((s, i) => `${s.name} is ${s.status}: ${reasons[i]}`).join("\n"));
      }
      if (ready.length === watched.length) {
        bar.done();
        return watched;
      }
      if (Date.now() > deadline) {
        bar.done();
        const late = watched.filter((s) => s.status !== "ready").map((s) => `${s.name} (${s.status}${s.waitingFor.length ? `, waiting for ${s.waitingFor.join(", ")}` : ""})`);
        throw new CliError(`not ready after ${Math.round(timeoutMs / 1000)}s: ${late.join(", ")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    bar.done();
    throw error;
  }
}

async function lastProblem(client: ApiClient, name: string): Promise<string> {
  const { events } = await client.get<{ events: EventRecord[] }>(`/api/v1/events?service=${encodeURIComponent(name)}&limit=20`);
  const problem = [...events].reverse().find((e) => e.type === "ReplicaExited" || e.type === "ReplicaCrashLoop");
  return problem ? `${problem.replica}: ${problem.message}` : "see drover describe " + name;
}

