import { test } from "node:test";
import assert from "node:assert/strict";
import type { PlacementRequest } from "../../scheduler/types.js";
import { planScaleUp, type PendingReplica, type PoolOption } from "./cluster-autoscaler.js";

const request = (cpuMillis: number, extra: Partial<PlacementRequest> = {}): PlacementRequest => ({ service: "t/a", runtime: "process", requests: { cpuMillis, memoryBytes: 64 * 1024 ** 2, gpus: 0 }, ports: 1, placement: { strategy: "spread", constraints: [], spread_by: [], affinity: [] }, ...extra });
const pending = (n: number, cpu: number, extra: Partial<PlacementRequest> = {}): PendingReplica[] => Array.from({ length: n }, (_, i) => ({ id: `a-${i}`, service: "t/a", request: request(cpu, extra), reason: "2 nodes: cpu exhausted" }));
const pool = (name: string, cpu: number, cost: number, watts: number, extra: Partial<PoolOption> = {}): PoolOption => ({
  name, machine: { name: `${name}-m`, cpu, memory: 4 * 1024 ** 3, gpus: 0, hourly_cost: cost, watts }, labels: {}, optimize: "cost", room: 3, arriving: 0, runtimes: ["process"], ...extra,
});

test("scale-up: the cheapest pool whose machine fits; new nodes binpacked; within max", () => {
  // 4 replicas of 600m: one per 1-CPU node (900m allocatable), two per 2-CPU node.
  const plan = planScaleUp(pending(4, 600), [pool("big", 2000, 0.05, 40), pool("small", 1000, 0.01, 15, { room: 2 })]);
  assert.deepEqual([...plan.add], [["small", 2], ["big", 1]], "small is cheaper until its max; the rest goes to the next cheapest");
  assert.deepEqual(plan.unplaceable, []);
  assert.equal(plan.for.get("big")!.length, 2, "one big node takes two");
});

test("scale-up: by energy where the pool says so; nodes already arriving are filled first", () => {
  const byEnergy = planScaleUp(pending(1, 300), [pool("cheap", 1000, 0.01, 50, { optimize: "energy" }), pool("frugal", 1000, 0.03, 10, { optimize: "energy" })]);
  assert.deepEqual([...byEnergy.add], [["frugal", 1]]);
  const arriving = planScaleUp(pending(2, 400), [pool("small", 1000, 0.01, 15, { arriving: 1 })]);
  assert.deepEqual([...arriving.add], [], "the arriving node takes both");
});

test("scale-up: GPU and label constraints only on pools that have them; what fits nowhere is said, with why", () => {
  const gpuPool = pool("gpu", 4000, 0.9, 300, { machine: { name: "g1", cpu: 4000, memory: 16 * 1024 ** 3, gpus: 1, hourly_cost: 0.9, watts: 300 } });
  const gpu = planScaleUp(pending(1, 500, { requests: { cpuMillis: 500, memoryBytes: 0, gpus: 1 } }), [pool("small", 1000, 0.01, 15), gpuPool]);
  assert.deepEqual([...gpu.add], [["gpu", 1]], "only the GPU pool fits a GPU request, however cheap the other");
  const zoned = planScaleUp(pending(1, 100, { placement: { strategy: "spread", constraints: [{ label: "zone", operator: "in", values: ["eu"] }], spread_by: [], affinity: [] } }), [pool("us", 1000, 0.01, 15, { labels: { zone: "us" } }), pool("eu", 1000, 0.02, 15, { labels: { zone: "eu" } })]);
  assert.deepEqual([...zoned.add], [["eu", 1]]);
  const huge = planScaleUp(pending(1, 8000), [pool("small", 1000, 0.01, 15)]);
  assert.deepEqual(huge.unplaceable.map((u) => u.why), ["no pool's machine fits it"]);
  const full = planScaleUp(pending(1, 500), [pool("small", 1000, 0.01, 15, { room: 0 })]);
  assert.deepEqual(full.unplaceable.map((u) => u.why), ["every pool that fits it is at max (small)"]);
});
