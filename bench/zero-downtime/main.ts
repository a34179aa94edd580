/**
 * bench/zero-downtime: a 4-replica hello service under constant load (wrk) while it is updated
 * three times in a row — rolling, then blue-green, then canary — once with keep-alive
 * connections and once with a new connection per request. Prints requests served, failures, and
 * p50/p99 latency before (a quiet run of the same length) and during the updates. Writes
 * bench/results/zero-downtime.json.
 *
 *   npm run bench:zero-downtime [-- --seconds 30 --connections 16]
 */
import { parseArgs } from "node:util";
import { Drover, freePort, HELLO, REPO, waitFor } from "../../test/harness.js";
import { writeResult } from "../common.js";
import { wrk, type WrkResult } from "../wrk.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "30" }, connections: { type: "string", default: "16" } } });
const SECONDS = Math.max(30, Number(values.seconds));
const CONNECTIONS = Number(values.connections);

const STRATEGIES = {
  rolling: "{strategy: rolling, rolling: {max_surge: 1, max_unavailable: 0}}",
  blue_green: "{strategy: blue_green, blue_green: {scale_down_delay: 2s}}",
  canary: "{strategy: canary, canary: {steps: [{weight: 25, pause: 2s}, {weight: 50, pause: 2s}], analysis: {min_requests: 100}}}",
};

function descriptor(port: number, message: string, deployment: string): string {
  return `apiVersion: drover/v1
kind: Service
metadata: {name: web, namespace: bench}
spec:
  command: [node, server.js]
  working_dir: ${HELLO}
  replicas: 4
  networking: {ports: [{name: http, port: ${port}}]}
  health_checks:
    readiness_probe: {http_get: {path: /ready, port: http}, period: 200ms, failure_threshold: 1}
  stop: {grace_period: 5s}
  deployment: ${deployment}
  configuration: {environment: {MESSAGE: "${message}"}}
`;
}

async function apply(drover: Drover, text: string): Promise<number> {
  const response = await fetch(`${drover.url}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json", ...drover.authorization() }, body: JSON.stringify({ files: [{ file: "bench.yaml", text, baseDir: REPO }] }) });
  if (!response.ok) throw new Error(`apply failed: ${await response.text()}`);
  const body = (await response.json()) as { services: Array<{ revision: number }> };
  return body.services[0]!.revision;
}

interface RolloutView {
  rollout: { toRevision: number; state: string; metrics: { durationMs: number; requests: number; errors: number } | null } | null;
}

async function updates(drover: Drover, port: number, log: string[]): Promise<void> {
  let version = 2;
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  for (const [strategy, deployment] of Object.entries(STRATEGIES)) {
    const revision = await apply(drover, descriptor(port, `v${version++}`, deployment));
    const view = await waitFor(`the ${strategy} rollout`, async () => {
      const { body } = await drover.api<RolloutView>("/api/v1/services/bench%2Fweb/rollout");
      return body.rollout?.toRevision === revision && ["succeeded", "rolled_back", "failed"].includes(body.rollout.state) ? body : undefined;
    }, 60_000, 200);
    log.push(`${strategy}: ${view.rollout!.state} in ${view.rollout!.metrics?.durationMs}ms (router: ${view.rollout!.metrics?.requests} requests, ${view.rollout!.metrics?.errors} errors)`);
  }
}

const report: Record<string, { before: WrkResult; during: WrkResult; rollouts: string[] }> = {};
for (const close of [false, true]) {
  const variant = close ? "new connection per request" : "keep-alive";
  const drover = await Drover.create();
  try {
    await drover.startServer();
    const port = await freePort();
    await apply(drover, descriptor(port, "v1", STRATEGIES.rolling));
    await waitFor("four ready replicas", async () => {
      const { body } = await drover.api<{ replicas: Array<{ state: string }> }>("/api/v1/replicas");
      return body.replicas.filter((r) => r.state === "ready").length === 4;
    }, 30_000);
    const url = `http://127.0.0.1:${port}/`;
    const before = await wrk(url, { seconds: 10, connections: CONNECTIONS, close });
    const log: string[] = [];
    const [during] = await Promise.all([wrk(url, { seconds: SECONDS, connections: CONNECTIONS, close }), updates(drover, port, log)]);
    report[variant] = { before, during, rollouts: log };
    process.stdout.write(
      `${variant}: before ${before.requests} requests (${before.requestsPerSecond.toFixed(0)}/s, p50 ${before.latencyMs.p50}ms, p99 ${before.latencyMs.p99}ms, ${before.failed} failed); ` +
        `during ${SECONDS}s with three updates ${during.requests} requests (${during.requestsPerSecond.toFixed(0)}/s, p50 ${during.latencyMs.p50}ms, p99 ${during.latencyMs.p99}ms), failed ${during.failed}\n  ${log.join("\n  ")}\n`,
    );
  } finally {
    await drover.cleanup();
  }
}
writeResult("zero-downtime", {
  seconds: SECONDS,
  connections: CONNECTIONS,
  variants: Object.fromEntries(Object.entries(report).map(([k, v]) => [k, { before: summary(v.before), during: summary(v.during), rollouts: v.rollouts }])),
  target: { failed: 0 },
});

function summary(r: WrkResult): object {
  return { requests: r.requests, requestsPerSecond: r.requestsPerSecond, latencyMs: r.latencyMs, failed: r.failed };
}
