/**
 * Metric history per service: every sampling interval a point (CPU cores, memory, watts,
 * requests per second, error share, p95 latency) goes into a ring buffer holding the last hour;
 * each finished minute is averaged into the store (kept for RETENTION_DAYS), for longer ranges,
 * forecasting and recommendations.
 */
import { latencyQuantile, type MetricPoint, type NodeAgent, type RevisionTraffic, trafficSince } from "../contract/index.js";
import type { Store } from "../store/store.js";
import { PointRing } from "./point-ring.js";

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
export const RETENTION_DAYS = 7;

export class MetricHistory {
  private readonly rings = new Map<string, PointRing>();
  private readonly lastTraffic = new Map<string, RevisionTraffic>();
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private minute = 0;

  constructor(
    private readonly store: Store,
    private readonly agent: NodeAgent,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `afterSample`: what follows each sample (the autoscaler decides on the newest figures). */
  start(afterSample: () => Promise<void> = async () => undefined): void {
    this.timer = setInterval(() => void this.sample().then(afterSample).catch(() => undefined), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Points of the last hour since `since`, averaged into buckets of `stepMs` (at least the interval). */
  recent(service: string, since: number, stepMs: number): MetricPoint[] {
    const points = this.rings.get(service)?.since(since) ?? [];
    return downsample(points, Math.max(stepMs, this.intervalMs));
  }

  /** The newest point per service. */
  latest(): Map<string, MetricPoint> {
    const latest = new Map<string, MetricPoint>();
    for (const [service, ring] of this.rings) {
      const point = ring.latest();
      if (point) latest.set(service, point);
    }
    return latest;
  }

  /** Takes one point per service; public so tests and callers can sample on demand. */
  async sample(): Promise<void> {
    const now = this.now();
    const seconds = this.lastAt ? (now - this.lastAt) / 1000 : 0;
    this.lastAt = now;
    // The agent's sampler has read every replica already: its figures are reused, not read again.
    const sampled = this.agent.metrics().replicas;
    const byService = new Map<string, { cpu: number; memory: number; watts: number; replicas: number }>();
    for (const status of await this.agent.list()) {
      const figures = sampled.get(status.id);
      if (status.state === "exited" || !figures) continue;
      const entry = byService.get(status.service) ?? { cpu: 0, memory: 0, watts: 0, replicas: 0 };
      entry.replicas += 1;
      entry.cpu += figures.cpuCores;
      entry.memory += figures.memoryBytes;
      entry.watts += figures.watts;
      byService.set(status.service, entry);
    }
    for (const traffic of this.agent.traffic()) {
      const total = sumRevisions(traffic.revisions);
      const last = this.lastTraffic.get(traffic.service);
      // Router counters start again with drover: a counter that went back starts a new window.
      const window = last && total.requests >= last.requests ? trafficSince(total, last) : total;
      this.lastTraffic.set(traffic.service, total);
      const entry = byService.get(traffic.service) ?? { cpu: 0, memory: 0, watts: 0, replicas: 0 };
      byService.set(traffic.service, entry);
      if (seconds <= 0) continue;
      this.push(traffic.service, {
        at: now,
        replicas: entry.replicas,
        cpuCores: entry.cpu,
        memoryBytes: entry.memory,
        watts: entry.watts,
        requestsPerSecond: window.requests / seconds,
        errorRate: window.requests ? (window.statuses["5xx"] ?? 0) / window.requests : null,
        p95Ms: latencyQuantile(window, 0.95),
      });
      byService.delete(traffic.service);
    }
    if (seconds > 0) {
      for (const [service, entry] of byService) this.push(service, { at: now, replicas: entry.replicas, cpuCores: entry.cpu, memoryBytes: entry.memory, watts: entry.watts, requestsPerSecond: 0, errorRate: null, p95Ms: null });
    }
    await this.persistMinute(now);
  }

  private push(service: string, point: MetricPoint): void {
    let ring = this.rings.get(service);
    if (!ring) this.rings.set(service, (ring = new PointRing(Math.ceil(HOUR_MS / this.intervalMs) + 1)));
    ring.push(point);
  }

  /** When a minute has passed, its average per service goes into the store. */
  private async persistMinute(now: number): Promise<void> {
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    if (this.minute === 0) this.minute = minute;
    if (minute === this.minute) return;
    const finished = this.minute;
    this.minute = minute;
    const rows = [];
    for (const [service, ring] of this.rings) {
      const points = ring.since(finished).filter((p) => p.at < finished + MINUTE_MS);
      if (points.length) rows.push({ service, ...average(points, finished) });
    }
    if (rows.length) await this.store.appendMetricMinutes(rows, now - RETENTION_DAYS * 86_400_000);
  }
}

function sumRevisions(revisions: RevisionTraffic[]): RevisionTraffic {
  const total: RevisionTraffic = { revision: 0, requests: 0, statuses: {}, proxyErrors: 0, latencyBuckets: [], latencySumMs: 0, bytesIn: 0, bytesOut: 0, connections: 0 };
  for (const r of revisions) {
    total.requests += r.requests;
    for (const [k, v] of Object.entries(r.statuses)) total.statuses[k] = (total.statuses[k] ?? 0) + v;
    r.latencyBuckets.forEach((n, i) => (total.latencyBuckets[i] = (total.latencyBuckets[i] ?? 0) + n));
    total.latencySumMs += r.latencySumMs;
  }
  return total;
}

function mean(values: Array<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
}

/** One point for a set of points: averages (p95: the largest, the conservative choice). */
function average(points: MetricPoint[], at: number): MetricPoint {
  const p95s = points.map((p) => p.p95Ms).filter((v): v is number => v !== null);
  return {
    at,
    replicas: mean(points.map((p) => p.replicas)) ?? 0,
    cpuCores: mean(points.map((p) => p.cpuCores)) ?? 0,
    memoryBytes: mean(points.map((p) => p.memoryBytes)) ?? 0,
    watts: mean(points.map((p) => p.watts)) ?? 0,
    requestsPerSecond: mean(points.map((p) => p.requestsPerSecond)) ?? 0,
    errorRate: mean(points.map((p) => p.errorRate)),
    p95Ms: p95s.length ? Math.max(...p95s) : null,
  };
}

export function downsample(points: MetricPoint[], stepMs: number): MetricPoint[] {
  const buckets = new Map<number, MetricPoint[]>();
  for (const p of points) {
    const key = Math.floor(p.at / stepMs) * stepMs;
    buckets.set(key, [...(buckets.get(key) ?? []), p]);
  }
  return [...buckets].sort((a, b) => a[0] - b[0]).map(([at, list]) => average(list, at));
}
