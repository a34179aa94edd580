/**
 * bench/recovery: how fast a replica is back.
 *
 * 1. kill -9 of a replica until it is ready again, over --kills kills, against a bare baseline
 *    that respawns the same process on its exit and waits for its port (DESIGN.md 6: median
 *    ≤ 1.1 × baseline).
 * 2. liveness starts failing (the replica hangs) until its replacement is ready, over --hangs runs.
 *
 * Prints the figures and writes bench/results/recovery.json.
 *
 *   npm run bench:recovery [-- --kills 50 --hangs 10]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { tcpConnects } from "../../src/agent/probes/tcp.js";
import { Drover, freePort, HELLO, helloService } from "../../test/harness.js";
import { applyText, followEvents, median, percentile, writeResult } from "../common.js";

const { values } = parseArgs({ options: { kills: { type: "string", default: "50" }, hangs: { type: "string", default: "10" }, poll: { type: "string", default: "2" } } });
const KILLS = Number(values.kills);
const HANGS = Number(values.hangs);
/** The baseline's port polling interval (ms). */
const POLL_MS = Number(values.poll);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A supervisor in its simplest form: respawn on exit, then poll the port until it accepts. */
async function baseline(): Promise<number[]> {
  const port = await freePort();
  let child!: ChildProcess;
  const start = () => (child = spawn(process.execPath, ["server.js"], { cwd: HELLO, env: { PATH: process.env.PATH, PORT: String(port) }, detached: true, stdio: "ignore" }));
  const waitListening = async () => {
    while (!(await tcpConnects(port, 1000))) await sleep(POLL_MS);
  };
  start();
  await waitListening();
  const samples: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const killedAt = performance.now();
    process.kill(child.pid!, "SIGKILL");
    await exited;
    start();
    await waitListening();
    samples.push(performance.now() - killedAt);
  }
  process.kill(-child.pid!, "SIGKILL");
  return samples;
}

interface ReplicaRow {
  id: string;
  pid: number | null;
  state: string;
  ports: Record<string, number>;
}

async function replicaOf(drover: Drover, service: string): Promise<ReplicaRow> {
  const { body } = await drover.api<{ replicas: ReplicaRow[] }>(`/api/v1/replicas?service=${service}`);
  return body.replicas[0]!;
}


interface KillSample {
  readyMs: number;
  /** When the exit was recorded and the new process started, after the kill. */
  exitedMs: number;
  startedMs: number;
}

/** kill -9 → ReplicaReady; each kill is a first restart (reset_after 0s), so no backoff applies. */
async function droverKills(drover: Drover): Promise<KillSample[]> {
  const events = await followEvents(drover);
  try {
    const ready = events.next((e) => e.type === "ReplicaReady" && e.service === "bench/victim");
    await applyText(drover, helloService("victim", await freePort(), { namespace: "bench", extra: "  restart: {backoff: {reset_after: 0s}}\n" }));
    await ready;
    const samples: KillSample[] = [];
    for (let i = 0; i < KILLS; i++) {
      const replica = await replicaOf(drover, "bench/victim");
      const back = events.next((e) => e.type === "ReplicaReady" && e.replica === replica.id);
      const killedAt = Date.now();
      process.kill(replica.pid!, "SIGKILL");
      const ready = await back;
      const after = (type: string) => (events.seen.find((e) => e.type === type && e.replica === replica.id && e.time >= killedAt)?.time ?? NaN) - killedAt;
      samples.push({ readyMs: ready.time - killedAt, exitedMs: after("ReplicaExited"), startedMs: after("ReplicaStarted") });
    }
    return samples;
  } finally {
    events.close();
  }
}

/** The replica hangs (alive, answering nothing) → liveness fails → stop → replacement ready. */
async function droverHangs(drover: Drover): Promise<{ detectedMs: number[]; readyMs: number[] }> {
  const events = await followEvents(drover);
  const detectedMs: number[] = [];
  const readyMs: number[] = [];
  try {
    const extra = "  health_checks:\n    liveness_probe: {http_get: {path: /health, port: http}, period: 500ms, timeout: 200ms, failure_threshold: 3}\n  restart: {backoff: {reset_after: 0s}}\n";
    const ready = events.next((e) => e.type === "ReplicaReady" && e.service === "bench/hangs");
    await applyText(drover, helloService("hangs", await freePort(), { namespace: "bench", extra, grace: "500ms" }));
    await ready;
    for (let i = 0; i < HANGS; i++) {
      const replica = await replicaOf(drover, "bench/hangs");
      await sleep(600); // a passing probe first, so each run starts from a healthy verdict
      const unhealthy = events.next((e) => e.type === "ReplicaUnhealthy" && e.replica === replica.id);
      const hungAt = Date.now();
      await fetch(`http://127.0.0.1:${replica.ports.http}/hang`, { method: "POST" });
      detectedMs.push((await unhealthy).time - hungAt);
      const back = await events.next((e) => e.type === "ReplicaReady" && e.replica === replica.id);
      readyMs.push(back.time - hungAt);
    }
    return { detectedMs, readyMs };
  } finally {
    events.close();
  }
}

const summary = (samples: number[]) => ({ median: Math.round(median(samples) * 10) / 10, p99: Math.round(percentile(samples, 99) * 10) / 10, min: Math.round(Math.min(...samples) * 10) / 10, max: Math.round(Math.max(...samples) * 10) / 10 });

const bareSamples = await baseline();
const drover = await Drover.create();
let killSamples: KillSample[];
let hangs: { detectedMs: number[]; readyMs: number[] };
try {
  await drover.startServer();
  killSamples = await droverKills(drover);
  hangs = HANGS > 0 ? await droverHangs(drover) : { detectedMs: [], readyMs: [] };
} finally {
  await drover.cleanup();
}
const kills = killSamples.map((k) => k.readyMs);
const result = {
  kills: KILLS,
  baselinePollMs: POLL_MS,
  killToReady: {
    drover: summary(kills),
    baseline: summary(bareSamples),
    ratio: median(kills) / median(bareSamples),
    target: { ratio: 1.1 },
    droverSteps: { exitRecordedMs: summary(killSamples.map((k) => k.exitedMs)), processStartedMs: summary(killSamples.map((k) => k.startedMs)) },
  },
  hangToReady: HANGS > 0 ? { runs: HANGS, probe: "http /health every 500ms, timeout 200ms, failure_threshold 3; grace 500ms", detected: summary(hangs.detectedMs), ready: summary(hangs.readyMs) } : null,
};
const k = result.killToReady;
process.stdout.write(`kill -9 → ready (${KILLS} kills): drover median ${k.drover.median}ms p99 ${k.drover.p99}ms; bare respawn-and-wait (port polled every ${POLL_MS}ms) median ${k.baseline.median}ms p99 ${k.baseline.p99}ms; ratio ${k.ratio.toFixed(2)} (target ≤ 1.1)\n`);
process.stdout.write(`  drover's steps (medians after the kill): exit recorded ${k.droverSteps.exitRecordedMs.median}ms, new process started ${k.droverSteps.processStartedMs.median}ms, ready ${k.drover.median}ms\n`);
if (result.hangToReady) {
  const h = result.hangToReady;
  process.stdout.write(`hang → liveness failure detected (${HANGS} runs): median ${h.detected.median}ms p99 ${h.detected.p99}ms; → replacement ready: median ${h.ready.median}ms p99 ${h.ready.p99}ms (${h.probe})\n`);
}
writeResult("recovery", result);
