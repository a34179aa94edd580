import { test } from "node:test";
import assert from "node:assert/strict";
import type { PlacementSpec } from "../spec/index.js";
import { schedule } from "./schedule.js";
import type { NodeCandidate, PlacementRequest } from "./types.js";

const Gi = 1024 ** 3;
function node(name: string, patch: Partial<NodeCandidate> = {}): NodeCandidate {
  return {
    name, labels: {}, ready: true, cordoned: false, runtimes: ["process", "docker"],
    allocatable: { cpuMillis: 4000, memoryBytes: 8 * Gi, gpus: 0 }, requested: { cpuMillis: 0, memoryBytes: 0, gpus: 0 },
    freePorts: 1000, wattsPerCore: 10, replicas: new Map(), replicaCount: 0, ...patch,
  };
}
const placement = (patch: Partial<PlacementSpec> = {}): PlacementSpec => ({ strategy: "spread", constraints: [], spread_by: [], affinity: [], ...patch });
function request(patch: Partial<PlacementRequest> & { placement?: PlacementSpec } = {}): PlacementRequest {
  return { service: "default/api", runtime: "process", requests: { cpuMillis: 500, memoryBytes: Gi, gpus: 0 }, ports: 1, placement: placement(), ...patch };
}
const used = (cpuMillis: number, memoryBytes = 0, gpus = 0) => ({ cpuMillis, memoryBytes, gpus });
const placed = (d: ReturnType<typeof schedule>) => d.node ?? `pending: ${"message" in d ? d.message : ""}`;

test("feasibility: each filter drops the nodes it should, and the reasons are grouped and counted", () => {
  const cases: Array<{ name: string; nodes: NodeCandidate[]; request?: PlacementRequest; expect: string }> = [
    { name: "fits the only node", nodes: [node("a")], expect: "a" },
    { name: "no nodes", nodes: [], expect: "pending: no nodes" },
    { name: "not ready", nodes: [node("a", { ready: false }), node("b")], expect: "b" },
    { name: "cordoned", nodes: [node("a", { cordoned: true }), node("b")], expect: "b" },
    { name: "cpu", nodes: [node("a", { requested: used(3800) }), node("b")], expect: "b" },
    { name: "memory", nodes: [node("a", { requested: used(0, 7.5 * Gi) }), node("b")], expect: "b" },
    { name: "runtime", nodes: [node("a", { runtimes: ["process"] }), node("b")], request: request({ runtime: "docker" }), expect: "b" },
    { name: "ports", nodes: [node("a", { freePorts: 0 }), node("b")], expect: "b" },
    { name: "fixed ports: one replica of the service per node", nodes: [node("a", { replicas: new Map([["default/api", 1]]) }), node("b")], request: request({ fixedPorts: true }), expect: "b" },
    { name: "fixed ports taken everywhere", nodes: [node("a", { replicas: new Map([["default/api", 1]]) })], request: request({ fixedPorts: true }), expect: "pending: 1 node: its target_port is bound there by another replica of the service" },
    { name: "other services do not count", nodes: [node("a", { replicas: new Map([["default/web", 1]]) })], request: request({ fixedPorts: true }), expect: "a" },
    {
      name: "gpus",
      nodes: [node("a"), node("b", { allocatable: { cpuMillis: 4000, memoryBytes: 8 * Gi, gpus: 1 } })],
      request: request({ requests: { cpuMillis: 100, memoryBytes: 0, gpus: 1 } }),
      expect: "b",
    },
    {
      name: "every reason counted",
      nodes: [node("a", { requested: used(3800) }), node("b", { requested: used(3900) }), node("c", { labels: { zone: "us" } }), node("d", { ready: false })],
      request: request({ placement: placement({ constraints: [{ label: "zone", operator: "in", values: ["eu"] }] }) }),
      expect: "pending: 2 nodes: cpu exhausted; 1 node: constraint zone in (eu) failed; 1 node: node not ready",
    },
    {
      name: "no GPUs vs GPUs exhausted",
      nodes: [node("a"), node("b", { allocatable: { cpuMillis: 4000, memoryBytes: 8 * Gi, gpus: 1 }, requested: used(0, 0, 1) })],
      request: request({ requests: { cpuMillis: 100, memoryBytes: 0, gpus: 1 } }),
      expect: "pending: 1 node: GPUs exhausted; 1 node: no GPUs",
    },
  ];
  for (const c of cases) assert.equal(placed(schedule(c.request ?? request(), c.nodes)), c.expect, c.name);
});

test("label constraints: every operator", () => {
  const nodes = [node("eu", { labels: { zone: "eu", cores: "16" } }), node("us", { labels: { zone: "us", cores: "4" } }), node("bare")];
  const cases: Array<[PlacementSpec["constraints"][number], string[]]> = [
    [{ label: "zone", operator: "in", values: ["eu", "asia"] }, ["eu"]],
    [{ label: "zone", operator: "not_in", values: ["eu"] }, ["us", "bare"]],
    [{ label: "zone", operator: "exists", values: [] }, ["eu", "us"]],
    [{ label: "zone", operator: "not_exists", values: [] }, ["bare"]],
    [{ label: "cores", operator: "gt", values: ["8"] }, ["eu"]],
    [{ label: "cores", operator: "lt", values: ["8"] }, ["us"]],
  ];
  for (const [constraint, expected] of cases) {
    const fits = nodes.filter((n) => schedule(request({ placement: placement({ constraints: [constraint] }) }), [n]).node !== null).map((n) => n.name);
    assert.deepEqual(fits, expected, `${constraint.label} ${constraint.operator}`);
  }
});

test("scores: binpack fills the fullest node, spread the emptiest, and replicas of a service spread over nodes", () => {
  const nodes = [node("empty"), node("half", { requested: used(2000, 4 * Gi) })];
  assert.equal(schedule(request({ placement: placement({ strategy: "binpack" }) }), nodes).node, "half");
  assert.equal(schedule(request(), nodes).node, "empty");
  const holding = [node("a", { replicas: new Map([["default/api", 1]]) }), node("b")];
  assert.equal(schedule(request(), holding).node, "b");
});

test("topology spread evens a service out over a label's values", () => {
  const nodes = [
    node("eu-1", { labels: { zone: "eu" }, replicas: new Map([["default/api", 1]]) }),
    node("eu-2", { labels: { zone: "eu" } }),
    node("us-1", { labels: { zone: "us" } }),
  ];
  // eu-2 is as empty as us-1, but its zone already has a replica.
  assert.equal(schedule(request({ placement: placement({ spread_by: ["zone"] }) }), nodes, { startAt: 1 }).node, "us-1");
});

test("affinity prefers the nodes it names, by weight, without excluding the others", () => {
  const nodes = [node("a", { labels: { disk: "hdd" } }), node("b", { labels: { disk: "ssd" } })];
  const prefers = placement({ affinity: [{ label: "disk", operator: "in", values: ["ssd"], weight: 100 }] });
  assert.equal(schedule(request({ placement: prefers }), nodes).node, "b");
  assert.equal(schedule(request({ placement: prefers }), [nodes[0]!]).node, "a");
});

test("energy: of two equal nodes the one with fewer watts per core wins", () => {
  const nodes = [node("hungry", { wattsPerCore: 12 }), node("frugal", { wattsPerCore: 6 })];
  const decision = schedule(request(), nodes);
  assert.equal(decision.node, "frugal");
  assert.ok(decision.node && decision.scores.energy === 1);
});

test("a bounded sample: only `sampleSize` feasible nodes are scored, starting where the caller says", () => {
  const nodes = Array.from({ length: 10 }, (_, i) => node(`n${i}`));
  const decision = schedule(request(), nodes, { sampleSize: 3, startAt: 7 });
  assert.ok(decision.node !== null);
  assert.equal(decision.considered, 3);
  assert.equal(decision.node, "n7");
  // Spread rotates through equal nodes; binpack always starts at the first.
  assert.equal(schedule(request(), nodes, { startAt: 12 }).node, "n2");
  assert.equal(schedule(request({ placement: placement({ strategy: "binpack" }) }), nodes, { startAt: 12 }).node, "n0");
});
