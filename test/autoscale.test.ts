import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import type { AutoscaleStatus } from "../src/server/autoscale/autoscaler.js";
import type { Recommendations } from "../src/server/autoscale/recommend.js";
import type { EventRecord } from "../src/contract/index.js";
import { Drover, freePort, helloService, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.create();
  // Decisions follow each metrics sample: sample twice a second so the test takes seconds, not minutes.
  drover.env.DROVER_METRICS_INTERVAL_MS = "500";
  await drover.startServer();
});
after(async () => drover.cleanup());

const scaling = `  resources: {requests: {cpu: 200m}}
  scaling:
    min_replicas: 1
    max_replicas: 4
    target_cpu_utilization: 50
    scale_up_policy: {stabilization_window: 0s, policies: [{type: Pods, value: 1, period: 1s}]}
    scale_down_policy: {stabilization_window: 4s, policies: [{type: Pods, value: 4, period: 1s}]}
`;

test("load on a CPU-heavy endpoint scales a service up from 1; once the load stops and the window passes it scales back down, without flapping", async () => {
  const port = await freePort();
  assert.equal((await drover.run(["up", "-f", drover.write("busy.yaml", helloService("busy", port, { extra: scaling }))])).code, 0);
  const autoscaled = async () => (await drover.eventsOf("test/busy")).filter((e) => e.type === "Autoscaled");
  const started = Date.now();

  // 8 connections asking for 15 ms of CPU each: far more than one replica's 200m at 50%.
  let finish!: (result: autocannon.Result) => void;
  const finished = new Promise<autocannon.Result>((resolve) => (finish = resolve));
  const load = autocannon({ url: `http://127.0.0.1:${port}/work?ms=15`, connections: 8, duration: 60 }, (_error, result) => finish(result));
  let loadStoppedAt = 0;
  try {
    await waitFor("scaling up to max_replicas under load", async () => (await drover.json<Array<{ desired: number; name: string }>>(["get"])).find((s) => s.name === "test/busy")?.desired === 4, 45_000, 250);
    await waitFor("every replica ready and taking load", async () => (await drover.replicasOf("test/busy")).filter((r) => r.state === "ready").length === 4, 20_000, 250);
    // Load goes on over eight more decisions (4 s): four replicas hold, none is taken away.
    const allReadyAt = Date.now();
    await waitFor("eight decisions with four replicas under load", async () => (await drover.api<AutoscaleStatus>("/api/v1/services/test%2Fbusy/autoscale")).body.decisions.filter((d) => d.at > allReadyAt).length >= 8, 15_000, 250);
  } finally {
    load.stop();
    loadStoppedAt = Date.now();
  }
  const result = await finished;
  assert.ok(result.requests.total > 100, `load was sent: ${result.requests.total} requests`);
  assert.equal(result.non2xx, 0, "the load was answered");

  await waitFor("scaling back down to min_replicas", async () => (await drover.json<Array<{ desired: number; name: string }>>(["get"])).find((s) => s.name === "test/busy")?.desired === 1, 30_000, 250);
  const downAt = Date.now();
  // Observed, not slept: over the next 3 s of decisions (six samples) the count stays at 1.
  await waitFor("3 s of decisions after the scale-down", async () => {
    const status = (await drover.api<AutoscaleStatus>("/api/v1/services/test%2Fbusy/autoscale")).body;
    return status.decisions.filter((d) => d.at > downAt + 3000).length > 0;
  }, 10_000, 250);
  const events = await autoscaled();
  const timeline = events.map((e: EventRecord) => `# +${(e.time - started) / 1000}s ${e.reason}: ${e.message}`);
  process.stdout.write(`# timeline (load stopped at +${(loadStoppedAt - started) / 1000}s):\n${timeline.join("\n")}\n`);

  const ups = events.filter((e) => e.reason === "ScaledUp");
  const downs = events.filter((e) => e.reason === "ScaledDown");
  assert.ok(ups.length >= 1 && downs.length >= 1, "up, then down");
  assert.ok(ups.every((e) => e.time <= loadStoppedAt), "every scale-up came while the load ran");
  assert.ok(downs.every((e) => e.time >= loadStoppedAt), "no scale-down while the load ran (no flapping)");
  assert.ok(downs.every((e) => e.time - loadStoppedAt >= 3500), "the scale-down waited for its stabilization window");
  assert.equal((await drover.json<Array<{ desired: number; name: string }>>(["get"])).find((s) => s.name === "test/busy")?.desired, 1, "still 1: no flapping after the scale-down");
  // Each decision carries its inputs. The first sample may catch the load's first half second
  // (metrics alone ask for 2) or its full weight (the scale-up policy caps the step at 2).
  assert.match(ups[0]!.message, /^1 → 2: cpu \d+(\.\d)?% \(target 50%\): ceil\(1 × \d+(\.\d)?\/50\) = \d+; (metrics|scale-up policy) → 2$/);

  const status = await drover.run(["autoscale", "status", "test/busy"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /autoscaling between 1 and 4 replicas/);
  assert.match(status.stdout, /cpu\s+[\d.]+%\s+50%/);
  assert.match(status.stdout, /Decisions:/);
});

test("a service without scaling settings says so; recommendations need history first", async () => {
  const port = await freePort();
  assert.equal((await drover.run(["up", "-f", drover.write("still.yaml", helloService("still", port))])).code, 0);
  const status = (await drover.api<AutoscaleStatus>("/api/v1/services/test%2Fstill/autoscale")).body;
  assert.equal(status.enabled, false);
  assert.match(status.note!, /does not autoscale/);
  const recommendations = await drover.api<Recommendations>("/api/v1/services/test%2Fstill/recommendations");
  assert.equal(recommendations.status, 200);
  assert.match(recommendations.body.note!, /not enough history: \d+ minutes with running replicas, 30 needed/);
  const cli = await drover.run(["recommend", "test/still"]);
  assert.equal(cli.code, 0);
  assert.match(cli.stdout, /not enough history/);
});

/** Writes per-minute history for a service straight into the server's database (WAL: safe beside the server). */
function seedMinutes(service: string, minutes: number, row: (at: number) => { replicas: number; cpu: number; memory: number; watts: number; rps: number }): void {
  const db = new Database(path.join(drover.home, "drover.db"));
  try {
    const insert = db.prepare("INSERT OR REPLACE INTO metric_minutes (service, at, replicas, cpu_cores, memory_bytes, watts, requests_per_second, error_rate, p95_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 5)");
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    db.transaction(() => {
      for (let at = now - minutes * 60_000; at < now; at += 60_000) {
        const r = row(at);
        insert.run(service, at, r.replicas, r.cpu, r.memory, r.watts, r.rps);
      }
    })();
  } finally {
    db.close();
  }
}

test("predictive: with two days of daily history and a peak due now, the forecast raises the floor before any load arrives", async () => {
  const port = await freePort();
  // A daily peak of 210 req/s centred 5 minutes from now; 10 req/s the rest of the day.
  const peakAt = Date.now() + 5 * 60_000;
  seedMinutes("test/daily", 3 * 1440, (at) => {
    const offset = ((((at - peakAt) % 86_400_000) + 86_400_000 + 43_200_000) % 86_400_000) - 43_200_000;
    return { replicas: 1, cpu: 0.01, memory: 20e6, watts: 1, rps: 10 + 200 * Math.exp(-((offset / 3_600_000) ** 2)) };
  });
  const extra = `  scaling:
    min_replicas: 1
    max_replicas: 6
    target_rps_per_replica: 20
    predictive: {enabled: true, season: 24h, margin: 30s}
`;
  assert.equal((await drover.run(["up", "-f", drover.write("daily.yaml", helloService("daily", port, { extra }))])).code, 0);
  await waitFor("the forecast floor to scale the service up", async () => (await drover.json<Array<{ desired: number; name: string }>>(["get"])).find((s) => s.name === "test/daily")?.desired === 6, 20_000, 250);
  const status = (await drover.api<AutoscaleStatus>("/api/v1/services/test%2Fdaily/autoscale")).body;
  assert.ok(status.forecast?.model, "a model was fitted from the stored minutes");
  assert.ok(status.forecast!.minutes >= 2 * 1440);
  assert.ok(status.forecast!.floor!.load > 150, `forecast ${status.forecast!.floor!.load} req/s near the peak`);
  const scaled = (await drover.eventsOf("test/daily")).find((e) => e.type === "Autoscaled")!;
  assert.match(scaled.message, /^1 → 6: rps (missing|0 req\/s per replica \(target 20 req\/s per replica\): ceil\(1 × 0\/20\) = 0); .*; forecast \d+(\.\d)? req\/s in \d+s needs \d+$/);
  const text = await drover.run(["autoscale", "status", "test/daily"]);
  assert.match(text.stdout, /Holt-Winters over \d+ minutes of rps/);
  assert.match(text.stdout, /\(startup \+ margin\): [\d.]+ req\/s → at least \d+ replicas/);
});

test("recommend: requests from the 95th percentile of each replica's use, scaling from what the load needed, each with its saving", async () => {
  const port = await freePort();
  const extra = "  resources: {requests: {cpu: 1000m, memory: 512Mi}}\n";
  assert.equal((await drover.run(["up", "-f", drover.write("fat.yaml", helloService("fat", port, { replicas: 4, extra }))])).code, 0);
  // Four replicas for two hours, each using ~100m and ~40 MiB: far less than reserved.
  seedMinutes("test/fat", 120, (at) => ({ replicas: 4, cpu: 0.4 + 0.04 * Math.sin(at / 600_000), memory: 4 * 40 * 1024 * 1024, watts: 4 * 0.9, rps: 20 }));
  const { body } = await drover.api<Recommendations>("/api/v1/services/test%2Ffat/recommendations");
  const byField = Object.fromEntries(body.recommendations.map((r) => [r.field, r]));
  assert.equal(byField["resources.requests.cpu"]!.current, "1000m");
  // p95 ≈ 110m per replica, + 20% = 132m, rounded up to 10m.
  assert.equal(byField["resources.requests.cpu"]!.recommended, "140m");
  assert.match(byField["resources.requests.cpu"]!.reason, /over-reserved/);
  assert.ok(byField["resources.requests.cpu"]!.saving.cpuCores > 3, "about 870m × 4 replicas stop being reserved");
  assert.equal(byField["resources.requests.memory"]!.recommended, "48Mi");
  assert.ok(byField["resources.requests.memory"]!.saving.memoryBytes > 1.5 * 1024 ** 3);
  assert.match(byField.scaling!.recommended, /^min_replicas 1, max_replicas 2, target_cpu_utilization 70$/);
  assert.ok(byField.scaling!.saving.watts > 2, "three replicas not needed: their watts");
  const cli = await drover.run(["recommend", "test/fat"]);
  assert.match(cli.stdout, /resources\.requests\.cpu: 1000m → 140m/);
  assert.match(cli.stdout, /saves: \d+m CPU/);
});
