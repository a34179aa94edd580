/**
 * Reading the router's counters, wherever they were counted: windows between two snapshots,
 * quantiles from the latency histogram, error rates, and the sum over several nodes' routers.
 */
import type { RevisionTraffic, ServiceTraffic } from "./metrics.js";

/** Upper bounds of the latency buckets, in milliseconds (the last bucket is +Inf). */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

export function emptyTraffic(revision: number): RevisionTraffic {
  return { revision, requests: 0, statuses: {}, proxyErrors: 0, latencyBuckets: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0), latencySumMs: 0, bytesIn: 0, bytesOut: 0, connections: 0 };
}

/** Every node's router counts what it proxied: a service's traffic is the sum over nodes. */
export function sumTraffic(perNode: ServiceTraffic[][]): ServiceTraffic[] {
  const byService = new Map<string, Map<number, RevisionTraffic>>();
  for (const node of perNode) {
    for (const { service, revisions } of node) {
      let sums = byService.get(service);
      if (!sums) byService.set(service, (sums = new Map()));
      for (const t of revisions) {
        let sum = sums.get(t.revision);
        if (!sum) sums.set(t.revision, (sum = emptyTraffic(t.revision)));
        sum.requests += t.requests;
        sum.proxyErrors += t.proxyErrors;
        sum.latencySumMs += t.latencySumMs;
        sum.bytesIn += t.bytesIn;
        sum.bytesOut += t.bytesOut;
        sum.connections += t.connections;
        for (const [status, count] of Object.entries(t.statuses)) sum.statuses[status] = (sum.statuses[status] ?? 0) + count;
        t.latencyBuckets.forEach((count, i) => (sum.latencyBuckets[i] = (sum.latencyBuckets[i] ?? 0) + count));
      }
    }
  }
  return [...byService].map(([service, revisions]) => ({ service, revisions: [...revisions.values()].sort((a, b) => a.revision - b.revision) }));
}

export function trafficSince(after: RevisionTraffic, before: RevisionTraffic | undefined): RevisionTraffic {
  if (!before) return after;
  const statuses: Record<string, number> = {};
  for (const [key, value] of Object.entries(after.statuses)) statuses[key] = value - (before.statuses[key] ?? 0);
  return {
    revision: after.revision,
    requests: after.requests - before.requests,
    statuses,
    proxyErrors: after.proxyErrors - before.proxyErrors,
    latencyBuckets: after.latencyBuckets.map((n, i) => n - (before.latencyBuckets[i] ?? 0)),
    latencySumMs: after.latencySumMs - before.latencySumMs,
    bytesIn: after.bytesIn - before.bytesIn,
    bytesOut: after.bytesOut - before.bytesOut,
    connections: after.connections - before.connections,
  };
}

/** A latency quantile (0..1) estimated from the histogram, linear within a bucket (as histogram_quantile does). */
export function latencyQuantile(traffic: RevisionTraffic, q: number): number | null {
  const total = traffic.latencyBuckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < traffic.latencyBuckets.length; i++) {
    const count = traffic.latencyBuckets[i]!;
    if (seen + count >= rank && count > 0) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      const upper = LATENCY_BUCKETS_MS[i] ?? LATENCY_BUCKETS_MS.at(-1)!;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return LATENCY_BUCKETS_MS.at(-1)!;
}

/** 5xx answers (the replica's or the router's) per request; null without requests. */
export function errorRate(traffic: RevisionTraffic): number | null {
  return traffic.requests === 0 ? null : (traffic.statuses["5xx"] ?? 0) / traffic.requests;
}
