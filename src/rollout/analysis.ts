/**
 * Canary analysis: the canary's error rate and p95 latency against the stable revision's, over
 * the current step (router counts since the step began). Pure.
 */
import type { ServiceSpec } from "../spec/index.js";
import { type CanaryAnalysis, LATENCY_BUCKETS_MS, latencyQuantile, type RevisionTraffic, type TrafficMark } from "../contract/index.js";

const LATENCY_MIN_SAMPLES = 100;
const LATENCY_FLOOR_MS = 10;

export function markOf(traffic: RevisionTraffic | undefined): TrafficMark {
  return { requests: traffic?.requests ?? 0, errors: traffic?.statuses["5xx"] ?? 0, latencyBuckets: traffic ? [...traffic.latencyBuckets] : new Array(LATENCY_BUCKETS_MS.length + 1).fill(0) };
}

/** Counts between two marks; a counter that went backwards (drover restarted) starts the window again. */
export function window(now: TrafficMark, since: TrafficMark | undefined): TrafficMark {
  if (!since || now.requests < since.requests) return now;
  return { requests: now.requests - since.requests, errors: now.errors - since.errors, latencyBuckets: now.latencyBuckets.map((n, i) => n - (since.latencyBuckets[i] ?? 0)) };
}

function summary(mark: TrafficMark): CanaryAnalysis["canary"] {
  const asTraffic = { latencyBuckets: mark.latencyBuckets } as RevisionTraffic;
  return { requests: mark.requests, errorRate: mark.requests ? mark.errors / mark.requests : null, p95Ms: latencyQuantile(asTraffic, 0.95) };
}

export function analyseCanary(canary: TrafficMark, stable: TrafficMark, config: ServiceSpec["deployment"]["canary"]["analysis"], now: number): CanaryAnalysis {
  const c = summary(canary);
  const s = summary(stable);
  const base = { at: now, canary: c, stable: s };
  if (c.requests < config.min_requests) return { ...base, verdict: "waiting", reason: `${c.requests} of ${config.min_requests} requests to the canary so far` };
  if (c.errorRate !== null && c.errorRate > config.max_error_rate) {
    return { ...base, verdict: "fail", reason: `canary error rate ${(c.errorRate * 100).toFixed(1)}% is above ${(config.max_error_rate * 100).toFixed(1)}% (stable ${s.errorRate === null ? "-" : `${(s.errorRate * 100).toFixed(1)}%`})` };
  }
  // Latency is compared only with enough samples on both sides (a p95 needs a hundred or so), and
  // a difference under LATENCY_FLOOR_MS never fails: at millisecond scale, a freshly started
  // replica's warm-up and a busy machine's noise would decide, not the revision.
  const samples = Math.max(config.min_requests, LATENCY_MIN_SAMPLES);
  if (c.p95Ms !== null && s.p95Ms !== null && c.requests >= samples && s.requests >= samples && c.p95Ms > s.p95Ms * config.max_latency_ratio && c.p95Ms - s.p95Ms > LATENCY_FLOOR_MS) {
    return { ...base, verdict: "fail", reason: `canary p95 ${c.p95Ms.toFixed(1)}ms is over ${config.max_latency_ratio}× the stable ${s.p95Ms.toFixed(1)}ms` };
  }
  return { ...base, verdict: "pass", reason: `canary error rate ${((c.errorRate ?? 0) * 100).toFixed(1)}%, p95 ${c.p95Ms?.toFixed(1) ?? "-"}ms over ${c.requests} requests` };
}
