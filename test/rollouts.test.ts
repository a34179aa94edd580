import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import type { EventRecord, ReplicaRecord, RolloutStatusView, ServiceSummary } from "../src/contract/index.js";
import { Drover, freePort, helloService, loadDuring, loadSummary, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover.cleanup());

const events = async (service: string) => (await drover.api<{ events: EventRecord[] }>(`/api/v1/events?service=${encodeURIComponent(service)}&limit=1000`)).body.events;
const rolloutOf = async (service: string) => (await drover.api<RolloutStatusView>(`/api/v1/services/${encodeURIComponent(service)}/rollout`)).body;
/** Waits until the service's rollout view satisfies `done`. */
async function rolloutWhen(service: string, what: string, done: (view: RolloutStatusView) => boolean, timeoutMs = 20_000): Promise<RolloutStatusView> {
  return waitFor(what, async () => {
    const view = await rolloutOf(service);
    return done(view) ? view : undefined;
  }, timeoutMs, 50);
}
// Three failures before unready: on a busy machine one slow probe must not empty the stable set.
// The startup probe gives a fresh replica 15 s to boot (the readiness probe alone would allow
// 1.3 s, which four node processes starting at once on a loaded 2-core machine can miss).
const probe = "  health_checks:\n    startup_probe: {http_get: {path: /ready, port: http}, period: 100ms, failure_threshold: 150}\n    readiness_probe: {http_get: {path: /ready, port: http}, period: 100ms, failure_threshold: 3}\n";

function version(name: string, port: number, message: string, deployment: string, env: Record<string, string> = {}): string {
  return helloService(name, port, { replicas: 4, env: { MESSAGE: message, ...env }, extra: `${probe}  deployment: ${deployment}\n`, grace: "2s" });
}

/** Applies and waits until the rollout to the new revision has ended; returns the rollout. */
async function rollOut(name: string, text: string): Promise<RolloutStatusView> {
  const file = drover.write(`${name.replace("/", "-")}-${Date.now()}.yaml`, text);
  const applied = await drover.run(["apply", "-f", file, "--yes"]);
  assert.equal(applied.code, 0, applied.stderr);
  const revision = Number(/revision (\d+)/.exec(applied.stdout)![1]);
  return rolloutWhen(name, "the rollout to end", (v) => v.rollout?.toRevision === revision && ["succeeded", "rolled_back", "failed"].includes(v.rollout.state), 60_000);
}

for (const [strategy, deployment] of [
  ["rolling", "{strategy: rolling, rolling: {max_surge: 1, max_unavailable: 0}}"],
  ["blue-green", "{strategy: blue_green, blue_green: {scale_down_delay: 500ms}}"],
  // Latency is not what this test is about: fresh replicas on a busy 2-core machine are slower at first.
  ["canary", "{strategy: canary, canary: {steps: [{weight: 25, pause: 300ms}, {weight: 50, pause: 300ms}], analysis: {min_requests: 10, max_latency_ratio: 5}}}"],
] as const) {
  test(`a ${strategy} update under load loses no request (keep-alive and new connections)`, async () => {
    const port = await freePort();
    const name = `zd-${strategy}`;
    assert.equal((await drover.run(["up", "-f", drover.write(`${name}.yaml`, version(name, port, "v1", deployment))])).code, 0);
    const load = await loadDuring(port, rollOut(`test/${name}`, version(name, port, "v2", deployment)));
    const rollout = load.value.rollout!;
    assert.equal(rollout.state, "succeeded", rollout.reason);
    assert.ok(load.requests > 50, `only ${load.requests} requests`);
    assert.equal(load.failed, 0, `failed requests: ${loadSummary(load)}`);
    assert.ok(load.revisions["1"]! > 0 && load.revisions["2"]! > 0, `both revisions answered: ${JSON.stringify(load.revisions)}`);
    assert.equal(rollout.metrics!.errors, 0);
    process.stdout.write(`# ${strategy}: ${load.requests} requests during ${rollout.metrics!.durationMs}ms, 0 failed; by revision ${JSON.stringify(load.revisions)}\n`);
  });
}

test("a revision that never becomes ready fails its gate and is rolled back within 5s; the old one serves throughout", async () => {
  const port = await freePort();
  const deployment = "{strategy: rolling}";
  const never = helloService("never", port, { replicas: 2, env: { MESSAGE: "v2", NOT_READY_AFTER: "0" }, extra: "  health_checks:\n    readiness_probe: {http_get: {path: /ready, port: http}, period: 200ms, timeout: 200ms, failure_threshold: 2}\n  deployment: {strategy: rolling}\n", grace: "1s" });
  const good = helloService("never", port, { replicas: 2, env: { MESSAGE: "v1" }, extra: `  health_checks:\n    readiness_probe: {http_get: {path: /ready, port: http}, period: 200ms, timeout: 200ms, failure_threshold: 2}\n  deployment: ${deployment}\n`, grace: "1s" });
  assert.equal((await drover.run(["up", "-f", drover.write("never-v1.yaml", good)])).code, 0);
  const load = await loadDuring(port, rollOut("test/never", never));
  const rollout = load.value.rollout!;
  assert.equal(rollout.state, "rolled_back");
  assert.match(rollout.reason, /health gate failed: replica never-\w+ of the new revision did not become ready in time/);
  const list = await events("test/never");
  const failed = list.find((e) => e.type === "RolloutFailed")!;
  const back = list.find((e) => e.type === "RolloutRolledBack")!;
  assert.ok(back.time - failed.time <= 5_000, `previous revision served everything ${back.time - failed.time}ms after the failed gate`);
  assert.ok(Math.abs(rollout.metrics!.rollbackDurationMs! - (back.time - rollout.failedAt!)) <= 5, "the rollout's metrics hold the rollback duration");
  const [service] = await drover.json<ServiceSummary[]>(["get", "never"]);
  assert.deepEqual([service!.revision, service!.status], [1, "ready"]);
  assert.equal(load.failed, 0, loadSummary(load));
  assert.deepEqual(Object.keys(load.revisions), ["1"]);
  process.stdout.write(`# failed gate → previous revision serving everything: ${back.time - failed.time}ms\n`);
});

test("a canary answering 5xx to 20% of requests is aborted by its analysis; clients saw no more errors than the step's weight allows", async () => {
  const port = await freePort();
  const deployment = "{strategy: canary, canary: {steps: [{weight: 20, pause: 60s}], analysis: {max_error_rate: 0.05, min_requests: 40}}}";
  assert.equal((await drover.run(["up", "-f", drover.write("canary-v1.yaml", version("bad-canary", port, "v1", deployment))])).code, 0);
  const load = await loadDuring(port, rollOut("test/bad-canary", version("bad-canary", port, "v2", deployment, { ERROR_RATE: "0.2" })));
  const rollout = load.value.rollout!;
  // Everything there is to know, should an assertion below fail on a busy machine.
  const seen = `rollout ${JSON.stringify({ state: rollout.state, reason: rollout.reason, analysis: rollout.analysis })}, clients ${loadSummary(load)}`;
  assert.equal(rollout.state, "rolled_back", seen);
  // Every fifth answer of the canary is a 500; a window that starts mid-cycle sees 8 in 44 (18.2%) as well as 9 in 41.
  assert.match(rollout.reason, /canary analysis failed: canary error rate (1[5-9]|2\d)\.\d% is above 5\.0%/, seen);
  const share = load.failed / load.requests;
  // 20% of requests to a canary that fails 20% of them: 4% at most, give or take the last requests in flight.
  assert.ok(share <= 0.05, `clients saw ${(share * 100).toFixed(1)}% errors (${load.failed} of ${load.requests}); ${seen}`);
  assert.ok(load.failed > 0, seen);
  assert.equal(load.statuses.error, undefined, `every request got an answer; ${seen}`);
  process.stdout.write(`# bad canary: ${load.failed} of ${load.requests} requests failed (${(share * 100).toFixed(1)}%), aborted after ${rollout.metrics!.durationMs}ms\n`);
});

test("kill -9 of drover in the middle of a rolling update: the rollout completes after the restart, nothing is orphaned", async () => {
  const port = await freePort();
  // A name of its own: the processes of this service are looked for machine-wide below, and this file may run twice at once (SQLite and PostgreSQL).
  const name = `mid-${port}`;
  const deployment = "{strategy: rolling, rolling: {max_surge: 1, max_unavailable: 0, min_ready: 700ms}}";
  assert.equal((await drover.run(["up", "-f", drover.write(`${name}-v1.yaml`, version(name, port, "v1", deployment))])).code, 0);
  const file = drover.write(`${name}-v2.yaml`, version(name, port, "v2", deployment));
  assert.equal((await drover.run(["apply", "-f", file, "--yes"])).code, 0);
  await waitFor("the first new replica to be ready", async () => (await rolloutOf(`test/${name}`)).replicas.to.ready >= 1, 15_000, 50);
  await drover.killServer();
  await drover.startServer();
  const view = await rolloutWhen(`test/${name}`, "the rollout to finish", (v) => v.rollout?.state === "succeeded", 30_000);
  assert.equal(view.rollout!.toRevision, 2);
  // The last old replica may still be draining when the rollout is done; then it is gone.
  const replicas = await waitFor("only the four new replicas", async () => {
    const list = await drover.json<ReplicaRecord[]>(["ps", name]);
    return list.length === 4 && list.every((r) => r.revision === 2 && r.state === "ready") ? list : undefined;
  });
  // No process of this service runs that drover does not know.
  const known = new Set(replicas.map((r) => r.pid));
  const running = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`DROVER_SERVICE=${name}`) && fs.readFileSync(`/proc/${pid}/environ`, "utf8").includes(`DROVER_HOME`) === false;
    } catch {
      return false;
    }
  }).map(Number);
  const ours = running.filter((pid) => fs.readFileSync(`/proc/${pid}/environ`, "utf8").includes(`DROVER_NAMESPACE=test`));
  assert.deepEqual(ours.filter((pid) => !known.has(pid)), [], "orphaned replica processes");
});

test("blue-green: rollout undo inside the scale-down window sends every request back to the old set at once", async () => {
  const port = await freePort();
  const deployment = "{strategy: blue_green, blue_green: {scale_down_delay: 60s}}";
  assert.equal((await drover.run(["up", "-f", drover.write("bg-v1.yaml", version("bg", port, "v1", deployment))])).code, 0);
  assert.equal((await drover.run(["apply", "-f", drover.write("bg-v2.yaml", version("bg", port, "v2", deployment)), "--yes"])).code, 0);
  // Four new replicas first: on 2 cores with this file running twice at once (SQLite and PostgreSQL) that has taken over 20 s.
  await waitFor("the switch", async () => (await events("test/bg")).some((e) => e.type === "RolloutSwitched"), 40_000, 50);
  const answer = async () => ((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { message: string }).message;
  await waitFor("the new set to answer", async () => (await answer()) === "v2", 5_000, 20);
  const undo = await drover.run(["rollout", "undo", "bg"]);
  assert.equal(undo.code, 0, undo.stderr);
  const after = await Promise.all(Array.from({ length: 8 }, () => answer()));
  assert.deepEqual([...new Set(after)], ["v1"], "the old set takes every request at once");
  const view = await rolloutWhen("test/bg", "the rollback to end", (v) => v.rollout?.state === "rolled_back");
  assert.match(view.rollout!.reason, /undone by the user/);
  assert.ok(view.rollout!.metrics!.rollbackDurationMs! < 5_000);
});

test("canary by hand: pause, resume, promote; rollback --to with a strategy; diff between revisions", async () => {
  const port = await freePort();
  const deployment = "{strategy: canary, canary: {steps: [{weight: 50, pause: 10m}], analysis: {min_requests: 0}}}";
  assert.equal((await drover.run(["up", "-f", drover.write("hand-v1.yaml", version("hand", port, "v1", deployment))])).code, 0);
  assert.equal((await drover.run(["apply", "-f", drover.write("hand-v2.yaml", version("hand", port, "v2", deployment)), "--yes"])).code, 0);
  await waitFor("the canary step", async () => (await events("test/hand")).some((e) => e.type === "RolloutStep"), 20_000, 50);
  const status = (await drover.run(["rollout", "status", "hand"])).stdout;
  assert.match(status, /Step:\s+1 of 1: 50%, paused \d/);
  assert.match(status, /Traffic:\s+revision 1 50%, revision 2 50%/);
  assert.match((await drover.run(["rollout", "pause", "hand"])).stdout, /progressing|paused/);
  assert.equal((await rolloutOf("test/hand")).rollout!.state, "paused");
  assert.equal((await drover.run(["rollout", "resume", "hand"])).code, 0);
  assert.equal((await drover.run(["rollout", "promote", "hand"])).code, 0);
  const done = await rolloutWhen("test/hand", "promotion", (v) => v.rollout?.state === "succeeded");
  assert.equal(done.replicas.to.ready, 4);
  assert.match((await drover.run(["diff", "hand", "1", "2"])).stdout, /~ spec\.configuration\.environment\.MESSAGE: "v1" → "v2"/);
  assert.equal((await drover.run(["diff", "hand", "1", "9"])).code, 2, "an unknown revision is a usage error");
  const back = await drover.run(["rollback", "hand", "--to", "1", "--strategy", "immediate"]);
  assert.match(back.stdout, /rolling back to revision 1 as revision 3/);
  const immediate = await rolloutWhen("test/hand", "the immediate rollback", (v) => v.rollout?.toRevision === 3 && v.rollout.state === "succeeded");
  assert.equal(immediate.rollout!.strategy, "immediate");
  assert.equal(((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { message: string }).message, "v1");
});
