import { test } from "node:test";
import assert from "node:assert/strict";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { MetricHistory, RETENTION_DAYS } from "./metric-history.js";
import type { NodeAgent, ReplicaStatus, RevisionTraffic } from "../contract/index.js";

/** The parts of an agent the history reads, driven by the test (a real agent needs real replicas and a minute of time). */
function agentWith(state: { requests: number; cpuCores: number }): NodeAgent {
  const status = { id: "api-1", service: "default/api", state: "ready" } as ReplicaStatus;
  const traffic = (): RevisionTraffic => ({ revision: 1, requests: state.requests, statuses: { "2xx": state.requests }, proxyErrors: 0, latencyBuckets: [0, 0, 0, state.requests], latencySumMs: 0, bytesIn: 0, bytesOut: 0, connections: 0 });
  return {
    list: async () => [status],
    metrics: () => ({ intervalMs: 5_000, host: null, utilisation: null, energy: { source: "model", watts: 0, joulesTotal: 0, model: null }, replicas: new Map([["api-1", { cpuCores: state.cpuCores, memoryBytes: 1e8, watts: 2, joulesTotal: 0 }]]) }),
    traffic: () => [{ service: "default/api", revisions: [traffic()] }],
  } as unknown as NodeAgent;
}

test("samples become points (rates from counter differences), minutes are averaged into the store, old minutes pruned", async () => {
  const store = new SqliteStore(":memory:");
  const state = { requests: 0, cpuCores: 0.5 };
  let now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const history = new MetricHistory(store, agentWith(state), 5_000, () => now);
  await store.appendMetricMinutes([{ service: "default/api", at: now - (RETENTION_DAYS + 1) * 86_400_000, replicas: 1, cpuCores: 1, memoryBytes: 1, watts: 1, requestsPerSecond: 1, errorRate: null, p95Ms: null }], 0);
  for (let i = 0; i <= 13; i++) {
    await history.sample();
    state.requests += 50; // 10 requests a second over each 5 s interval
    now += 5_000;
  }
  const points = history.recent("default/api", 0, 5_000);
  assert.equal(points.length, 13, "no point for the first sample: rates need two");
  assert.deepEqual([points[0]!.requestsPerSecond, points[0]!.cpuCores, points[0]!.watts, points[0]!.errorRate], [10, 0.5, 2, 0]);
  assert.ok(points[0]!.p95Ms! > 5 && points[0]!.p95Ms! <= 10, "p95 from the window's histogram");
  assert.equal(history.recent("default/api", 0, 30_000).length, 3, "downsampled to 30 s buckets");
  const minutes = await store.listMetricMinutes("default/api", 0, now);
  assert.equal(minutes.length, 1, "the finished minute is stored, the old one pruned");
  assert.equal(minutes[0]!.at, Date.UTC(2026, 0, 1, 12, 0, 0));
  assert.equal(minutes[0]!.requestsPerSecond, 10);
  await store.close();
});

test("the ring keeps the newest points up to its capacity, nulls included", async () => {
  const { PointRing } = await import("./point-ring.js");
  const ring = new PointRing(3);
  for (let at = 1; at <= 5; at++) ring.push({ at, replicas: 2, cpuCores: at, memoryBytes: 0, watts: 0, requestsPerSecond: 0, errorRate: at === 5 ? null : 0.5, p95Ms: null });
  assert.deepEqual(ring.since(0).map((p) => p.at), [3, 4, 5]);
  assert.deepEqual(ring.since(4).map((p) => p.at), [4, 5]);
  assert.deepEqual([ring.latest()!.at, ring.latest()!.errorRate, ring.latest()!.p95Ms], [5, null, null]);
  assert.equal(ring.size, 3);
});
