/**
 * bench/startup: 100 single-replica services applied until all are ready, against a bare
 * baseline that spawns the same 100 processes and waits for their ports. Also measures drover's
 * own CPU and memory with those 100 replicas at rest. Prints the figures and writes
 * bench/results/startup.json.
 *
 *   npm run bench:startup [-- --services 100 --rounds 3 --idle 10]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { tcpConnects } from "../../src/agent/probes/tcp.js";
import { Drover, freePort, HELLO, helloService, REPO } from "../../test/harness.js";
import { median, processCost, readUntil, writeResult } from "../common.js";

const { values } = parseArgs({
  options: { services: { type: "string", default: "100" }, rounds: { type: "string", default: "3" }, idle: { type: "string", default: "10" } },
});
const SERVICES = Number(values.services);
const ROUNDS = Number(values.rounds);
const IDLE_SECONDS = Number(values.idle);

async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Spawn the processes the way drover does (detached, own group) and poll each port every 10ms. */
async function baseline(): Promise<number> {
  const ports = await freePorts(SERVICES);
  const children: ChildProcess[] = [];
  const start = performance.now();
  for (const port of ports) {
    children.push(spawn(process.execPath, ["server.js"], { cwd: HELLO, env: { PATH: process.env.PATH, PORT: String(port) }, detached: true, stdio: "ignore" }));
  }
  await Promise.all(ports.map(async (port) => {
    while (!(await tcpConnects(port, 1000))) await new Promise((resolve) => setTimeout(resolve, 10));
  }));
  const elapsed = performance.now() - start;
  for (const child of children) process.kill(-child.pid!, "SIGKILL");
  return elapsed;
}

async function droverRun(): Promise<{ elapsed: number; idle: { cpuPercent: number; rssMb: number } | null }> {
  const drover = await Drover.create();
  try {
    await drover.startServer();
    const ports = await freePorts(SERVICES);
    const text = ports.map((port, i) => helloService(`svc-${i}`, port)).join("---\n");
    const files = [{ file: "bench.yaml", text, baseDir: REPO }];
    const events = await fetch(`${drover.url}/api/v1/events?follow=1&limit=1`, { headers: drover.authorization() });
    const ready = new Set<string>();
    const allReady = readUntil(events, (event) => {
      if (event.type === "ReplicaReady") ready.add(event.service);
      return ready.size >= SERVICES;
    });
    const start = performance.now();
    const response = await fetch(`${drover.url}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json", ...drover.authorization() }, body: JSON.stringify({ files }) });
    if (!response.ok) throw new Error(`apply failed: ${await response.text()}`);
    await allReady;
    const elapsed = performance.now() - start;
    const idle = IDLE_SECONDS > 0 ? await processCost(drover.server!.pid!, IDLE_SECONDS) : null;
    return { elapsed, idle };
  } finally {
    await drover.cleanup();
  }
}

const baselines: number[] = [];
const drovers: number[] = [];
let idle: { cpuPercent: number; rssMb: number } | null = null;
for (let round = 1; round <= ROUNDS; round++) {
  baselines.push(await baseline());
  const run = await droverRun();
  drovers.push(run.elapsed);
  idle = run.idle ?? idle;
  process.stdout.write(`round ${round}: baseline ${(baselines.at(-1)! / 1000).toFixed(2)}s, drover ${(run.elapsed / 1000).toFixed(2)}s\n`);
}
const result = {
  services: SERVICES,
  rounds: ROUNDS,
  baselineSeconds: median(baselines) / 1000,
  droverSeconds: median(drovers) / 1000,
  ratio: median(drovers) / median(baselines),
  targets: { droverSeconds: 10, ratio: 1.15, idleCpuPercent: 1, idleRssMb: 80 },
  idle,
  allRounds: { baselineMs: baselines.map(Math.round), droverMs: drovers.map(Math.round) },
};
process.stdout.write(
  `\n${SERVICES} services until all ready (median of ${ROUNDS}): drover ${result.droverSeconds.toFixed(2)}s, bare spawn-and-wait ${result.baselineSeconds.toFixed(2)}s, ratio ${result.ratio.toFixed(3)} (targets ≤ 10s, ≤ 1.15)\n`,
);
if (idle) process.stdout.write(`drover at rest with ${SERVICES} replicas: ${idle.cpuPercent.toFixed(2)}% of one core, ${idle.rssMb.toFixed(1)} MB resident (targets ≤ 1%, ≤ 80 MB)\n`);
writeResult("startup", result);
