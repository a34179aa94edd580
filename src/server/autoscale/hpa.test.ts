import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, decideReplicas, type HpaInput } from "./hpa.js";

const base: HpaInput = { now: 1_000_000, current: 4, min: 1, max: 10, metrics: [], up: DEFAULT_SCALE_UP, down: DEFAULT_SCALE_DOWN, recommendations: [], events: [] };
const cpu = (value: number | null, target = 70) => ({ name: "cpu", value, target });

test("the HPA formula: ceil(current × value / target), within 10% nothing moves, the largest metric wins", () => {
  assert.equal(decideReplicas({ ...base, metrics: [cpu(140)] }).desired, 8);
  assert.equal(decideReplicas({ ...base, metrics: [cpu(76)] }).desired, 4, "8.6% over target: within the tolerance");
  assert.equal(decideReplicas({ ...base, metrics: [cpu(78)] }).desired, 5, "11% over: ceil(4 × 78/70) = 5");
  const two = decideReplicas({ ...base, max: 7, metrics: [cpu(80), { name: "rps", value: 300, target: 100 }] });
  assert.equal(two.desired, 7, "rps asks for 12, the policy allows 8, max_replicas 7");
  assert.equal(two.recommendation, 12);
  assert.equal(two.reason, "max_replicas");
  assert.deepEqual(two.proposals.map((p) => [p.name, p.replicas]), [["cpu", 5], ["rps", 12]]);
});

test("scale-down waits for the stabilization window: the highest recommendation within 300 s holds", () => {
  const recommendations = [{ at: base.now - 200_000, replicas: 4 }, { at: base.now - 100_000, replicas: 3 }];
  const held = decideReplicas({ ...base, metrics: [cpu(10)], recommendations });
  assert.equal(held.recommendation, 1);
  assert.equal(held.desired, 4);
  assert.equal(held.reason, "scale-down stabilization window");
  const later = decideReplicas({ ...base, now: base.now + 150_000, metrics: [cpu(10)], recommendations });
  assert.equal(later.desired, 3, "the 4 has left the window; the 3 has not");
  assert.equal(decideReplicas({ ...base, now: base.now + 400_000, metrics: [cpu(10)], recommendations }).desired, 1);
});

test("scale-up policies: +100% or +4 per 15 s (the larger), counted from the period's start", () => {
  assert.equal(decideReplicas({ ...base, current: 2, metrics: [cpu(700)] }).desired, 6, "max(2 × 2, 2 + 4)");
  assert.equal(decideReplicas({ ...base, current: 8, max: 100, metrics: [cpu(700)] }).desired, 16, "max(8 × 2, 8 + 4)");
  // 4 of the current 6 were added 5 s ago: the period started at 2.
  const events = [{ at: base.now - 5_000, change: 4 }];
  const limited = decideReplicas({ ...base, current: 6, max: 100, metrics: [cpu(700)], events });
  assert.equal(limited.desired, 6);
  assert.equal(limited.reason, "scale-up policy");
  const minPolicy = decideReplicas({ ...base, current: 2, metrics: [cpu(700)], up: { ...DEFAULT_SCALE_UP, selectPolicy: "Min" } });
  assert.equal(minPolicy.desired, 4, "Min: the policy allowing the smaller change (2 × 2 < 2 + 4)");
  assert.equal(decideReplicas({ ...base, metrics: [cpu(700)], up: { ...DEFAULT_SCALE_UP, selectPolicy: "Disabled" } }).desired, 4);
});

test("scale-down policies: Pods and Percent per period; min_replicas is the floor", () => {
  const down = { stabilizationWindowMs: 0, selectPolicy: "Max" as const, policies: [{ type: "Pods" as const, value: 1, periodMs: 60_000 }] };
  assert.equal(decideReplicas({ ...base, current: 8, metrics: [cpu(10)], down }).desired, 7);
  assert.equal(decideReplicas({ ...base, current: 8, metrics: [cpu(10)], down, events: [{ at: base.now - 30_000, change: -1 }] }).desired, 8, "one already removed this minute");
  const percent = { ...down, policies: [{ type: "Percent" as const, value: 50, periodMs: 60_000 }] };
  assert.equal(decideReplicas({ ...base, current: 9, metrics: [cpu(1)], down: percent }).desired, 4, "trunc(9 × 0.5)");
  const floor = decideReplicas({ ...base, current: 3, min: 2, metrics: [cpu(1)], down: { ...down, policies: [{ type: "Percent", value: 100, periodMs: 15_000 }] } });
  assert.equal(floor.desired, 2);
  assert.equal(floor.reason, "min_replicas");
});

test("a missing or stale metric never scales down, but does not stop a scale-up", () => {
  const noDown = { ...DEFAULT_SCALE_DOWN, stabilizationWindowMs: 0 };
  const held = decideReplicas({ ...base, metrics: [cpu(10), { name: "rps", value: null, target: 100 }], down: noDown });
  assert.equal(held.desired, 4);
  assert.equal(held.reason, "a metric is missing or stale: no scale-down");
  assert.equal(decideReplicas({ ...base, metrics: [cpu(140), { name: "rps", value: null, target: 100 }] }).desired, 8);
});

test("bounds: a count outside min/max moves inside at once; zero replicas is left alone", () => {
  assert.equal(decideReplicas({ ...base, current: 12, metrics: [cpu(70)] }).desired, 10);
  assert.equal(decideReplicas({ ...base, current: 1, min: 3, metrics: [cpu(70)] }).desired, 3);
  assert.equal(decideReplicas({ ...base, current: 0, metrics: [cpu(700)] }).desired, 0);
});
