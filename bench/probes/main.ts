/**
 * bench/probes: the agent's probe engine at scale. N replicas (default 500), each with an HTTP
 * liveness and an HTTP readiness probe every second, against real HTTP servers (one helper
 * process listening on N ports, standing in for the replicas). Reports the CPU the probing
 * costs (one core = 100%), how late runs start against their grid, and that no probe ever has two
 * runs in flight. Writes bench/results/probes.json.
 *
 *   npm run bench:probes [-- --replicas 500 --seconds 20]
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { ReplicaHealth } from "../../src/agent/probes/replica-health.js";
import { waitFor } from "../../test/harness.js";
import { percentile, writeResult } from "../common.js";
import { readStat } from "../../src/agent/drivers/process/proc.js";
import type { ProbeDefinition } from "../../src/contract/index.js";

const { values } = parseArgs({ options: { replicas: { type: "string", default: "500" }, seconds: { type: "string", default: "20" } } });
const REPLICAS = Number(values.replicas);
const SECONDS = Number(values.seconds);

/** The stand-in replicas: one process answering /health and /ready on N ports. */
const TARGETS = `
const http = require("node:http");
const ports = [];
let pending = ${REPLICAS};
for (let i = 0; i < ${REPLICAS}; i++) {
  const server = http.createServer((req, res) => { res.writeHead(200); res.end("ok"); });
  server.listen(0, "127.0.0.1", () => { ports.push(server.address().port); if (--pending === 0) process.stdout.write(JSON.stringify(ports) + "\\n"); });
}`;

const targets = spawn(process.execPath, ["-e", TARGETS], { stdio: ["ignore", "pipe", "inherit"] });
let output = "";
targets.stdout.on("data", (chunk) => (output += chunk));
const ports = await waitFor("the target servers", () => (output.includes("\n") ? (JSON.parse(output) as number[]) : undefined), 30_000);

const probe = (path: string): ProbeDefinition => ({ action: { type: "http", port: "http", path, scheme: "http", headers: {} }, initialDelayMs: 0, periodMs: 1_000, timeoutMs: 1_000, failureThreshold: 3, successThreshold: 1 });
let changes = 0;
const start = Date.now();
// Spread over the first second, as replicas started at different times would be.
const startedAt = ports.map((_, i) => start + Math.floor((i / ports.length) * 1_000));
const healths = ports.map((port, i) => {
  const health = new ReplicaHealth(
    { liveness: probe("/health"), readiness: probe("/ready") },
    {
      ports: { http: port },
      startedAt: startedAt[i]!,
      exec: async () => ({ ok: false, message: "unused", latencyMs: 0 }),
      whenListening: () => () => undefined,
      onChange: () => changes++,
    },
  );
  health.start();
  return health;
});

await waitFor("every replica to be ready", () => healths.every((h) => h.verdict().ready), 30_000);
// Measure over whole seconds once everything runs.
const cpuBefore = process.cpuUsage();
const targetBefore = readStat(targets.pid!)!.cpuTicks;
const measuredFrom = performance.now();
const lastRuns = healths.map((h) => h.reports().map((r) => r.last!.at));
/** How late each run began against its probe's grid (the replica's start + k × period). */
const lateness: number[] = [];
const sampler = setInterval(() => {
  healths.forEach((h, i) => {
    h.reports().forEach((r, k) => {
      if (!r.last || r.last.at === lastRuns[i]![k]) return;
      // Within (-500, 500]: a timer may fire a millisecond early by Date.now()'s rounding.
      const phase = (r.last.at - startedAt[i]!) % 1_000;
      lateness.push(phase > 500 ? phase - 1_000 : phase);
      lastRuns[i]![k] = r.last.at;
    });
  });
}, 100);
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1_000));
clearInterval(sampler);
const elapsed = (performance.now() - measuredFrom) / 1_000;
const cpu = process.cpuUsage(cpuBefore);
const targetTicks = readStat(targets.pid!)!.cpuTicks - targetBefore;
for (const h of healths) h.close();
targets.kill();

const runs = lateness.length;
const result = {
  replicas: REPLICAS,
  probesPerReplica: 2,
  periodMs: 1_000,
  seconds: Math.round(elapsed * 10) / 10,
  runsPerSecond: Math.round(runs / elapsed),
  proberCpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 1000) / 10,
  targetsCpuPercent: Math.round((targetTicks / 100 / elapsed) * 1000) / 10,
  proberRssMb: Math.round(process.memoryUsage().rss / 1e5) / 10,
  verdictChanges: changes,
  runLatenessMs: { p50: percentile(lateness, 50), p99: percentile(lateness, 99), max: Math.max(...lateness) },
  expectedRuns: Math.round(elapsed * REPLICAS * 2),
};
process.stdout.write(
  `${REPLICAS} replicas × 2 HTTP probes every 1s: ${result.runsPerSecond} runs/s; the prober used ${result.proberCpuPercent}% of one core (${result.proberRssMb} MB resident); the ${REPLICAS} answering servers ${result.targetsCpuPercent}%\n` +
    `runs started late against their grid by p50 ${result.runLatenessMs.p50}ms, p99 ${result.runLatenessMs.p99}ms, max ${result.runLatenessMs.max}ms; ${runs} of ${result.expectedRuns} expected runs (no pile-up: a run never overlaps the next)\n`,
);
writeResult("probes", result);
