import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServiceSpec } from "../spec/index.js";
import type { ReplicaRecord } from "../contract/index.js";
import { NO_HEALING } from "../server/healing.js";
import { decideStrategy, failedGate, rollingBounds, type StrategyInput } from "./strategies.js";
import { analyseCanary } from "./analysis.js";

const now = 100_000;
let n = 0;
function replica(revision: number, patch: Partial<ReplicaRecord> = {}): ReplicaRecord {
  n++;
  return {
    id: `r${n}`, service: "t/api", revision, node: "local", state: "ready", ports: {}, pid: 1, restarts: 0, consecutiveFailures: 0, lastExit: null, reason: "",
    startedAt: 0, readyAt: 0, nextStartAt: null, healing: NO_HEALING, createdAt: n, updatedAt: 0, ...patch,
  };
}
const deployment = (patch: Partial<ServiceSpec["deployment"]> = {}): ServiceSpec["deployment"] => ({
  strategy: "rolling",
  rolling: { max_surge: { percent: 25 }, max_unavailable: { count: 0 }, min_ready: 0 },
  blue_green: { scale_down_delay: 30_000 },
  canary: { steps: [{ weight: 25, pause: 10_000 }, { weight: 50, pause: 10_000 }], analysis: { max_error_rate: 0.01, max_latency_ratio: 1.5, min_requests: 50 } },
  progress_deadline: 600_000,
  auto_rollback: true,
  ...patch,
});
const input = (patch: Partial<StrategyInput>): StrategyInput => ({
  desired: 4, deployment: deployment(), rollout: { strategy: "rolling", fromRevision: 1, toRevision: 2, step: 0, stepStartedAt: null, state: "progressing" }, current: [], old: [], now, ...patch,
});
const kinds = (actions: ReturnType<typeof decideStrategy>["actions"]) => actions.map((a) => ("replica" in a ? `${a.type}:${a.replica}` : a.type));

test("rolling bounds round as Kubernetes does", () => {
  assert.deepEqual(rollingBounds(4, { max_surge: { percent: 25 }, max_unavailable: { count: 0 }, min_ready: 0 }), { surge: 1, unavailable: 0 });
  assert.deepEqual(rollingBounds(10, { max_surge: { percent: 25 }, max_unavailable: { percent: 25 }, min_ready: 0 }), { surge: 3, unavailable: 2 });
  assert.deepEqual(rollingBounds(3, { max_surge: { count: 0 }, max_unavailable: { count: 0 }, min_ready: 0 }), { surge: 1, unavailable: 0 });
});

test("rolling: surge one at a time, an old replica goes only as a new one is available (after min_ready)", () => {
  const old = [replica(1, { id: "o1" }), replica(1, { id: "o2" }), replica(1, { id: "o3" }), replica(1, { id: "o4" })];
  assert.deepEqual(kinds(decideStrategy(input({ old })).actions), ["create"]);
  const starting = replica(2, { id: "n1", state: "running", readyAt: null });
  assert.deepEqual(kinds(decideStrategy(input({ old, current: [starting] })).actions), []);
  const fresh = replica(2, { id: "n1", readyAt: now - 1_000 });
  const withMinReady = input({ old, current: [fresh], deployment: deployment({ rolling: { max_surge: { count: 1 }, max_unavailable: { count: 0 }, min_ready: 5_000 } }) });
  const waiting = decideStrategy(withMinReady);
  assert.deepEqual(kinds(waiting.actions), [], "not available before min_ready");
  assert.equal(waiting.wakeAt, now + 4_000);
  assert.deepEqual(kinds(decideStrategy(input({ old, current: [fresh] })).actions), ["stop:o4"], "at desired + surge: room comes from an old one going");
  const done = decideStrategy(input({ current: [1, 2, 3, 4].map(() => replica(2)) }));
  assert.equal(done.complete, true);
});

test("rolling with max_unavailable: old replicas may go before new ones are ready; broken old ones go at once", () => {
  const old = [replica(1, { id: "o1" }), replica(1, { id: "o2" }), replica(1, { id: "o3", state: "crash_loop" }), replica(1, { id: "o4" })];
  const bounds = deployment({ rolling: { max_surge: { count: 0 }, max_unavailable: { count: 1 }, min_ready: 0 } });
  assert.deepEqual(kinds(decideStrategy(input({ old, deployment: bounds })).actions), ["stop:o3"], "no surge: nothing new while four exist; the broken one goes");
  const healthy = old.filter((r) => r.id !== "o3");
  assert.deepEqual(kinds(decideStrategy(input({ old: healthy, deployment: bounds })).actions), ["create"], "three left, all needed (4 − 1 available)");
  const full = [...healthy, replica(1, { id: "o5" })];
  assert.deepEqual(kinds(decideStrategy(input({ old: full, deployment: bounds })).actions), ["stop:o5"], "one may be unavailable: the newest old one goes first");
});

test("blue-green: the whole new set first with all traffic on the old; switch; the old set goes after the delay", () => {
  const rollout = { strategy: "blue_green" as const, fromRevision: 1, toRevision: 2, step: 0, stepStartedAt: null, state: "progressing" as const };
  const old = [replica(1), replica(1), replica(1), replica(1)];
  const start = decideStrategy(input({ rollout, old }));
  assert.deepEqual(kinds(start.actions), ["create", "create", "create", "create"]);
  assert.deepEqual(start.weights, { 1: 100, 2: 0 });
  const ready = decideStrategy(input({ rollout, old, current: [replica(2), replica(2), replica(2), replica(2)] }));
  assert.equal(ready.stepReady, true);
  const switched = decideStrategy(input({ rollout: { ...rollout, stepStartedAt: now - 10_000 }, old, current: [replica(2), replica(2), replica(2), replica(2)] }));
  assert.deepEqual(switched.weights, { 2: 100 });
  assert.deepEqual(kinds(switched.actions), [], "old kept during scale_down_delay");
  assert.equal(switched.wakeAt, now + 20_000);
  const later = decideStrategy(input({ rollout: { ...rollout, stepStartedAt: now - 30_000 }, old, current: [replica(2), replica(2), replica(2), replica(2)] }));
  assert.equal(later.actions.length, 4);
});

test("canary: a set sized to the step's weight takes that share; promotion replaces the stable set", () => {
  const rollout = { strategy: "canary" as const, fromRevision: 1, toRevision: 2, step: 0, stepStartedAt: null, state: "progressing" as const };
  const old = [replica(1), replica(1), replica(1), replica(1)];
  const first = decideStrategy(input({ rollout, old }));
  assert.deepEqual(kinds(first.actions), ["create"]);
  assert.deepEqual(first.weights, { 1: 75, 2: 25 });
  const second = decideStrategy(input({ rollout: { ...rollout, step: 1 }, old, current: [replica(2)] }));
  assert.deepEqual(kinds(second.actions), ["create"], "50% of 4 is 2");
  const promoting = decideStrategy(input({ rollout: { ...rollout, step: 2 }, old, current: [replica(2), replica(2), replica(2), replica(2)] }));
  assert.equal(promoting.weights, null);
  assert.equal(promoting.actions.length, 4);
});

test("the health gate: crash loops, failures and replicas that never get ready", () => {
  assert.equal(failedGate([replica(2)]), null);
  assert.match(failedGate([replica(2, { id: "x", state: "crash_loop", lastExit: { code: 3, signal: null, at: 0 } })])!, /x of the new revision is crash-looping \(exit code 3\)/);
  assert.match(failedGate([replica(2, { id: "y", state: "running", readyAt: null, startedAt: 5, healing: { ...NO_HEALING, readinessTimeoutFor: 5 } })])!, /did not become ready in time/);
});

test("canary analysis: waits for min_requests, fails on error rate or latency, passes otherwise", () => {
  const config = { max_error_rate: 0.05, max_latency_ratio: 1.5, min_requests: 20 };
  const buckets = (index: number, count: number) => Array.from({ length: 14 }, (_, i) => (i === index ? count : 0));
  const stable = { requests: 100, errors: 0, latencyBuckets: buckets(3, 100) };
  assert.equal(analyseCanary({ requests: 10, errors: 5, latencyBuckets: buckets(3, 10) }, stable, config, 0).verdict, "waiting");
  const errors = analyseCanary({ requests: 40, errors: 8, latencyBuckets: buckets(3, 40) }, stable, config, 0);
  assert.equal(errors.verdict, "fail");
  assert.match(errors.reason, /canary error rate 20\.0% is above 5\.0%/);
  const slow = { requests: 150, errors: 0, latencyBuckets: buckets(7, 150) };
  const stableMany = { requests: 150, errors: 0, latencyBuckets: buckets(3, 150) };
  assert.equal(analyseCanary(slow, stableMany, config, 0).verdict, "fail", "p95 ~100ms against ~10ms");
  assert.equal(analyseCanary({ requests: 40, errors: 0, latencyBuckets: buckets(7, 40) }, stable, config, 0).verdict, "pass", "too few samples to judge latency");
  const fastStable = { requests: 150, errors: 0, latencyBuckets: buckets(1, 150) };
  assert.equal(analyseCanary({ requests: 150, errors: 0, latencyBuckets: buckets(2, 150) }, fastStable, config, 0).verdict, "pass", "~4.9ms against ~2.4ms: twice as slow, but under the 10ms floor");
  assert.equal(analyseCanary({ requests: 40, errors: 1, latencyBuckets: buckets(3, 40) }, stable, config, 0).verdict, "pass");
});
