/** Following services until they are all ready, or one of them fails. */
import type { EventRecord, ServiceSummary } from "../contract/index.js";
import { ApiClient, CliError } from "./client.js";
import { progress } from "./output.js";

// Unschedulable is not final (the replica is placed as soon as a node fits), but waiting for it would not end by itself.
const FAILED = new Set(["crash_loop", "failed", "image_unavailable", "runtime_unavailable", "unschedulable"]);

export async function waitForReady(client: ApiClient, names: string[], timeoutMs: number): Promise<ServiceSummary[]> {
  const bar = progress();
  const deadline = Date.now() + timeoutMs;
  try {
    while (true) {
      const { services } = await client.get<{ services: ServiceSummary[] }>("/api/v1/services");
      const watched = services.filter((s) => names.includes(s.name));
      const ready = watched.filter((s) => s.status === "ready");
      const failed = watched.filter((s) => FAILED.has(s.status));
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

