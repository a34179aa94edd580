import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from "./hpa.js";
import { readingsOf, ServiceScaler, type Readings } from "./service-scaler.js";
import type { ScalingSettings } from "./settings.js";

const base: ScalingSettings = {
  min: 1,
  max: 10,
  targets: {},
  cpuBaseCores: 0.5,
  memoryBaseBytes: 100,
  up: DEFAULT_SCALE_UP,
  down: { ...DEFAULT_SCALE_DOWN, stabilizationWindowMs: 0 },
  rules: [],
  cooldownMs: 60_000,
  predictive: null,
};
const none: Readings = { cpu: null, memory: null, rps: null, latency_p95: null };

test("readings are per replica, in the targets' units; no requests means no latency, not a missing one", () => {
  const point = { at: 0, replicas: 2, cpuCores: 0.5, memoryBytes: 100, watts: 1, requestsPerSecond: 0, errorRate: null, p95Ms: null };
  assert.deepEqual(readingsOf(base, point, 2, true), { cpu: 50, memory: 50, rps: 0, latency_p95: 0 });
  assert.deepEqual(readingsOf(base, point, 2, false), none, "a stale sample reads as missing");
  assert.equal(readingsOf(base, { ...point, requestsPerSecond: 5 }, 2, true).latency_p95, null);
});

test("a rule acts once its condition has held for its duration, then not again within the cooldown", () => {
  const scaler = new ServiceScaler({ ...base, rules: [{ metric: "latency_p95", operator: ">", threshold: 200, durationMs: 30_000, action: "scale_up", step: 2 }] });
  const slow = { ...none, latency_p95: 350 };
  assert.equal(scaler.step(0, 2, slow, null).to, 2, "just started to hold");
  assert.equal(scaler.step(20_000, 2, slow, null).to, 2);
  const fired = scaler.step(30_000, 2, slow, null);
  assert.equal(fired.to, 4);
  assert.equal(fired.text, "2 → 4: rule latency_p95 > 200 for 30s: scale_up 2 → 4");
  assert.equal(scaler.step(70_000, 4, slow, null).to, 4, "within the cooldown");
  assert.equal(scaler.step(95_000, 4, slow, null).to, 6, "after the cooldown");
  assert.equal(scaler.step(100_000, 6, { ...none, latency_p95: 100 }, null).to, 6, "the condition ended");
});

test("a scale-down rule gives way to a target that asks for more; a forecast only raises the floor", () => {
  const scaler = new ServiceScaler({ ...base, targets: { cpu: 50 }, rules: [{ metric: "rps", operator: "<", threshold: 1, durationMs: 0, action: "scale_down", step: 1 }] });
  assert.equal(scaler.step(0, 4, { ...none, cpu: 100, rps: 0 }, null).to, 8, "cpu asks 8; the rule's 3 loses");
  const floor = { replicas: 6, load: 120, metric: "rps" as const, leadTimeMs: 40_000 };
  const raised = scaler.step(100_000, 4, { ...none, cpu: 50, rps: 5 }, floor);
  assert.equal(raised.to, 6);
  assert.match(raised.text, /forecast 120 req\/s in 40s needs 6$/);
  assert.equal(scaler.step(200_000, 6, { ...none, cpu: 50, rps: 5 }, { ...floor, replicas: 2 }).to, 6, "a low forecast never takes replicas away");
});

test("missing metrics hold the count; the decision says so", () => {
  const scaler = new ServiceScaler({ ...base, targets: { cpu: 50 } });
  const held = scaler.step(0, 5, none, null);
  assert.equal(held.to, 5);
  assert.equal(held.text, "5 → 5: cpu missing; no fresh metric: the count holds → 5");
});
