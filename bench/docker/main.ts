/**
 * bench/docker: what drover costs on top of the Docker Engine itself.
 *
 * 1. Start: --services single-replica services of the hello image applied until every one is
 *    ready, against a baseline that creates and starts the same containers straight through the
 *    Engine API, all at once, and polls each until it answers HTTP.
 * 2. Recovery: kill -9 of a container's main process until it answers again, over --kills kills:
 *    drover (exit noticed, a new container, readiness) against a bare supervisor that starts the
 *    same container again on its exit and polls it the same way.
 *
 * Needs a Docker Engine and the test images (scripts/build-test-images.sh). Prints the figures
 * and writes bench/results/docker.json.
 *
 *   npm run bench:docker [-- --services 10 --kills 20]
 */
import { parseArgs } from "node:util";
import type Dockerode from "dockerode";
import { dockerClient } from "../../src/agent/drivers/docker/engine.js";
import { Drover, dockerUnavailable, freePort } from "../../test/harness.js";
import { applyText, followEvents, machine, median, percentile, writeResult } from "../common.js";

const { values } = parseArgs({ options: { services: { type: "string", default: "10" }, kills: { type: "string", default: "20" } } });
const SERVICES = Number(values.services);
const KILLS = Number(values.kills);
const IMAGE = "drover-test/hello:1";
const POLL_MS = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function answers(host: string, port: number): Promise<boolean> {
  try {
    return (await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false;
  }
}

async function untilAnswering(host: string, port: number): Promise<void> {
  while (!(await answers(host, port))) await sleep(POLL_MS);
}

async function addressOf(container: Dockerode.Container): Promise<{ ip: string; pid: number }> {
  const info = await container.inspect();
  return { ip: Object.values(info.NetworkSettings.Networks)[0]!.IPAddress, pid: info.State.Pid };
}

async function baselineContainer(docker: Dockerode, name: string): Promise<Dockerode.Container> {
  const port = await freePort();
  const container = await docker.createContainer({
    name,
    Image: IMAGE,
    Env: ["PORT=8080"],
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }] } },
  });
  await container.start();
  return container;
}

async function baselineStart(docker: Dockerode): Promise<number> {
  const started = performance.now();
  const containers = await Promise.all(Array.from({ length: SERVICES }, (_, i) => baselineContainer(docker, `bench-docker-start-${process.pid}-${i}`)));
  await Promise.all(containers.map(async (c) => untilAnswering((await addressOf(c)).ip, 8080)));
  const elapsed = performance.now() - started;
  await Promise.all(containers.map((c) => c.remove({ force: true })));
  return elapsed;
}

function service(name: string, port: number, extra = ""): string {
  return `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: bench}
spec:
  image: {repository: drover-test/hello, tag: "1", pullPolicy: Never}
  networking: {ports: [{name: http, port: ${port}}]}
  stop: {grace_period: 1s}
${extra}`;
}

async function droverStart(drover: Drover): Promise<number> {
  const events = await followEvents(drover);
  try {
    const names = Array.from({ length: SERVICES }, (_, i) => `s${i}`);
    const text = (await Promise.all(names.map(async (n) => service(n, await freePort())))).join("---\n");
    const ready = new Set<string>();
    const all = new Promise<void>((resolve) => {
      const wait = () => events.next((e) => e.type === "ReplicaReady" && e.service.startsWith("bench/s"), 60_000).then((e) => {
        ready.add(e.service);
        if (ready.size === SERVICES) resolve();
        else void wait();
      });
      void wait();
    });
    const started = performance.now();
    await applyText(drover, text);
    await all;
    return performance.now() - started;
  } finally {
    events.close();
  }
}

/** A supervisor in its simplest form: on the exit, start the same container again, poll until it answers. */
async function baselineKills(docker: Dockerode): Promise<number[]> {
  const container = await baselineContainer(docker, `bench-docker-kill-${process.pid}`);
  const samples: number[] = [];
  try {
    let { ip, pid } = await addressOf(container);
    await untilAnswering(ip, 8080);
    for (let i = 0; i < KILLS; i++) {
      const exited = container.wait();
      const killedAt = performance.now();
      process.kill(pid, "SIGKILL");
      await exited;
      await container.start();
      ({ ip, pid } = await addressOf(container));
      await untilAnswering(ip, 8080);
      samples.push(performance.now() - killedAt);
    }
  } finally {
    await container.remove({ force: true });
  }
  return samples;
}

async function droverKills(drover: Drover): Promise<number[]> {
  const events = await followEvents(drover);
  const samples: number[] = [];
  try {
    const ready = events.next((e) => e.type === "ReplicaReady" && e.service === "bench/victim", 60_000);
    await applyText(drover, service("victim", await freePort(), "  restart: {backoff: {reset_after: 0s}}\n  health_checks:\n    readiness_probe: {http_get: {path: /health, port: http}, period: 100ms}\n"));
    await ready;
    for (let i = 0; i < KILLS; i++) {
      const { body } = await drover.api<{ replicas: Array<{ id: string; pid: number }> }>("/api/v1/replicas?service=bench/victim");
      const replica = body.replicas[0]!;
      const back = events.next((e) => e.type === "ReplicaReady" && e.replica === replica.id, 30_000);
      const killedAt = Date.now();
      process.kill(replica.pid, "SIGKILL");
      samples.push((await back).time - killedAt);
    }
  } finally {
    events.close();
  }
  return samples;
}

const summary = (samples: number[]) => ({ median: Math.round(median(samples)), p99: Math.round(percentile(samples, 99)), min: Math.round(Math.min(...samples)), max: Math.round(Math.max(...samples)) });

async function main(): Promise<void> {
  const unavailable = dockerUnavailable();
  if (unavailable) throw new Error(`bench/docker needs a Docker Engine: ${unavailable}`);
  const docker = await dockerClient();
  const baseStartMs = await baselineStart(docker);
  const drover = await Drover.started();
  try {
    const droverStartMs = await droverStart(drover);
    console.log(`start ${SERVICES} services: drover ${Math.round(droverStartMs)} ms, engine API directly ${Math.round(baseStartMs)} ms (ratio ${(droverStartMs / baseStartMs).toFixed(2)})`);
    const droverKill = await droverKills(drover);
    console.log(`kill -9 → answering (drover, new container): ${JSON.stringify(summary(droverKill))} ms`);
    const baseKill = await baselineKills(docker);
    console.log(`kill -9 → answering (bare supervisor, same container started again): ${JSON.stringify(summary(baseKill))} ms (ratio of medians ${(median(droverKill) / median(baseKill)).toFixed(2)})`);
    writeResult("docker", {
      machine: machine(),
      services: SERVICES,
      start: { droverMs: Math.round(droverStartMs), baselineMs: Math.round(baseStartMs), ratio: droverStartMs / baseStartMs },
      kill: { drover: summary(droverKill), baseline: summary(baseKill), ratio: median(droverKill) / median(baseKill) },
    });
  } finally {
    await drover.cleanup();
  }
}

await main();
