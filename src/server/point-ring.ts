/**
 * A fixed-size ring of metric points in one Float64Array: an hour of 5 s samples for a hundred
 * services is a few megabytes this way, against three times that as objects. Nulls are stored as NaN.
 */
import type { MetricPoint } from "../contract/index.js";

const FIELDS = 8;

export class PointRing {
  private readonly data: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity * FIELDS);
  }

  get size(): number {
    return this.count;
  }

  push(point: MetricPoint): void {
    const index = (this.start + this.count) % this.capacity;
    if (this.count === this.capacity) this.start = (this.start + 1) % this.capacity;
    else this.count++;
    const o = index * FIELDS;
    this.data[o] = point.at;
    this.data[o + 1] = point.cpuCores;
    this.data[o + 2] = point.memoryBytes;
    this.data[o + 3] = point.watts;
    this.data[o + 4] = point.requestsPerSecond;
    this.data[o + 5] = point.errorRate ?? NaN;
    this.data[o + 6] = point.p95Ms ?? NaN;
    this.data[o + 7] = point.replicas;
  }

  /** Points from `since` on, oldest first. */
  since(since: number): MetricPoint[] {
    const points: MetricPoint[] = [];
    for (let i = 0; i < this.count; i++) {
      const o = ((this.start + i) % this.capacity) * FIELDS;
      if (this.data[o]! >= since) points.push(this.read(o));
    }
    return points;
  }

  latest(): MetricPoint | null {
    return this.count ? this.read(((this.start + this.count - 1) % this.capacity) * FIELDS) : null;
  }

  private read(o: number): MetricPoint {
    const orNull = (v: number) => (Number.isNaN(v) ? null : v);
    return {
      at: this.data[o]!,
      cpuCores: this.data[o + 1]!,
      memoryBytes: this.data[o + 2]!,
      watts: this.data[o + 3]!,
      requestsPerSecond: this.data[o + 4]!,
      errorRate: orNull(this.data[o + 5]!),
      p95Ms: orNull(this.data[o + 6]!),
      replicas: this.data[o + 7]!,
    };
  }
}
