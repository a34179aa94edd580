/**
 * What the router saw, per service and revision: requests, status classes, latency histogram,
 * bytes. Counters only grow; a reader takes two snapshots and subtracts (as Prometheus does), so
 * a canary analysis can judge one step's window.
 */
import { emptyTraffic, LATENCY_BUCKETS_MS, type RevisionTraffic, type ServiceTraffic } from "../../contract/index.js";

export class TrafficStats {
  private readonly byService = new Map<string, Map<number, RevisionTraffic>>();

  entry(service: string, revision: number): RevisionTraffic {
    let revisions = this.byService.get(service);
    if (!revisions) this.byService.set(service, (revisions = new Map()));
    let entry = revisions.get(revision);
    if (!entry) {
      entry = emptyTraffic(revision);
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
