import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import autocannon from "autocannon";
import type { AutoscaleStatus } from "../src/server/autoscale/autoscaler.js";
import type { Recommendations } from "../src/server/autoscale/recommend.js";
import type { EventRecord } from "../src/store/records.js";
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
  // Each decision carries its inputs.
  assert.match(ups[0]!.message, /^1 → 2: cpu \d+(\.\d)?% \(target 50%\) asks \d+; scale-up policy → 2$/);

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
