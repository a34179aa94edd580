/**
 * What the router saw, per service and revision: requests, status classes, latency histogram,
 * bytes. Counters only grow; a reader takes two snapshots and subtracts (as Prometheus does), so
 * a canary analysis can judge one step's window.
 */

/** Upper bounds of the latency buckets, in milliseconds (the last bucket is +Inf). */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

export interface RevisionTraffic {
  revision: number;
  requests: number;
  /** By class: "1xx".."5xx"; answers the router made itself (no replica reachable) count as 5xx and in `proxyErrors`. */
  statuses: Record<string, number>;
  proxyErrors: number;
  /** Cumulative-free counts per bucket of LATENCY_BUCKETS_MS, plus one for +Inf. */
  latencyBuckets: number[];
  latencySumMs: number;
  bytesIn: number;
  bytesOut: number;
  /** TCP routes: connections instead of requests. */
  connections: number;
}

export interface ServiceTraffic {
  service: string;
  revisions: RevisionTraffic[];
}

export class TrafficStats {
  private readonly byService = new Map<string, Map<number, RevisionTraffic>>();

  entry(service: string, revision: number): RevisionTraffic {
    let revisions = this.byService.get(service);
    if (!revisions) this.byService.set(service, (revisions = new Map()));
    let entry = revisions.get(revision);
    if (!entry) {
      entry = { revision, requests: 0, statuses: {}, proxyErrors: 0, latencyBuckets: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0), latencySumMs: 0, bytesIn: 0, bytesOut: 0, connections: 0 };
      revisions.set(revision, entry);
    }
    return entry;
  }

  recordRequest(entry: RevisionTraffic, status: number, latencyMs: number, proxyError: boolean): void {
    entry.requests++;
    const statusClass = `${Math.floor(status / 100)}xx`;
    entry.statuses[statusClass] = (entry.statuses[statusClass] ?? 0) + 1;
    if (proxyError) entry.proxyErrors++;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS_MS.length && latencyMs > LATENCY_BUCKETS_MS[bucket]!) bucket++;
    entry.latencyBuckets[bucket]!++;
    entry.latencySumMs += latencyMs;
  }

  snapshot(service?: string): ServiceTraffic[] {
    const result: ServiceTraffic[] = [];
    for (const [name, revisions] of this.byService) {
      if (service && name !== service) continue;
      result.push({ service: name, revisions: [...revisions.values()].map((r) => ({ ...r, statuses: { ...r.statuses }, latencyBuckets: [...r.latencyBuckets] })) });
    }
    return result;
  }

  forget(service: string): void {
    this.byService.delete(service);
  }
}

/** The difference between two snapshots of one revision (`before` may be missing: all of `after`). */
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
