/**
 * The Kubernetes HorizontalPodAutoscaler's replica calculation (autoscaling/v2), as a pure
 * function so every decision can be replayed from its inputs:
 *
 * 1. per metric, `ceil(current × value / target)` unless the ratio is within the tolerance
 *    (10%); the largest proposal wins;
 * 2. stabilization: a scale-up goes no higher than the lowest recommendation within the up
 *    window, a scale-down no lower than the highest within the down window (default 300 s);
 * 3. rate policies: each policy bounds the change against the replica count at the start of its
 *    period (Pods: ± value, Percent: × (1 ± value/100)); `Max` picks the policy allowing the
 *    largest change, `Min` the smallest, `Disabled` forbids that direction;
 * 4. min and max replicas.
 *
 * drover adds one rule of its own: a metric that is missing or stale never lets the service
 * scale down (Kubernetes assumes missing pods at 0% for scale-down; a gap in drover's samples
 * is not evidence of idleness).
 */

export interface MetricReading {
  /** e.g. "cpu", "memory", "rps", "latency_p95". */
  name: string;
  /** Average per ready replica, in the target's unit; null when there is no fresh value. */
  value: number | null;
  target: number;
}

export interface ScalingPolicy {
  type: "Pods" | "Percent";
  value: number;
  periodMs: number;
}

export interface ScalingRules {
  stabilizationWindowMs: number;
  selectPolicy: "Max" | "Min" | "Disabled";
  policies: ScalingPolicy[];
}

export interface Recommendation {
  at: number;
  replicas: number;
}

/** A change of replica count that the autoscaler made (positive: up). */
export interface ScaleEvent {
  at: number;
  change: number;
}

export interface HpaInput {
  now: number;
  current: number;
  min: number;
  max: number;
  metrics: MetricReading[];
  up: ScalingRules;
  down: ScalingRules;
  /** Earlier recommendations (step 1 results), for stabilization; older than both windows may be dropped. */
  recommendations: Recommendation[];
  /** Earlier scale events, for the rate policies. */
  events: ScaleEvent[];
  tolerance?: number;
}

export interface HpaDecision {
  desired: number;
  /** Step 1's result, to be remembered as a recommendation. */
  recommendation: number;
  /** Per metric: its ratio to the target and what it alone asks for. */
  proposals: Array<{ name: string; value: number | null; target: number; ratio: number | null; replicas: number }>;
  /** The step that set the final number, in words, for the decision's event. */
  reason: string;
}

export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowMs: 0,
  selectPolicy: "Max",
  policies: [
    { type: "Percent", value: 100, periodMs: 15_000 },
    { type: "Pods", value: 4, periodMs: 15_000 },
  ],
};
export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowMs: 300_000,
  selectPolicy: "Max",
  policies: [{ type: "Percent", value: 100, periodMs: 15_000 }],
};

export function decideReplicas(input: HpaInput): HpaDecision {
  const { now, current, min, max } = input;
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  // Kubernetes: a target scaled to zero by hand is left alone.
  if (current === 0) return { desired: 0, recommendation: 0, proposals: [], reason: "scaled to zero: autoscaling is off until it has replicas" };

  const proposals = input.metrics.map((m) => {
    if (m.value === null) return { name: m.name, value: null, target: m.target, ratio: null, replicas: current };
    const ratio = m.value / m.target;
    const replicas = Math.abs(ratio - 1) <= tolerance ? current : Math.ceil(ratio * current);
    return { name: m.name, value: m.value, target: m.target, ratio, replicas };
  });
  const known = proposals.filter((p) => p.ratio !== null);
  const missing = known.length < proposals.length;
  let recommendation = known.length ? Math.max(...known.map((p) => p.replicas)) : current;
  let reason = !proposals.length ? "no metric to scale on" : known.length ? "metrics" : "no fresh metric: the count holds";
  if (missing && recommendation < current) {
    recommendation = current;
    reason = "a metric is missing or stale: no scale-down";
  }

  const stabilized = stabilize(now, current, recommendation, input.recommendations, input.up, input.down);
  if (stabilized !== recommendation) reason = stabilized > recommendation ? "scale-down stabilization window" : "scale-up stabilization window";

  let desired = stabilized;
  if (desired > current) {
    const limit = Math.min(scaleUpLimit(now, current, input.events, input.up), max);
    if (desired > limit) {
      desired = limit;
      reason = limit === max ? "max_replicas" : "scale-up policy";
    }
  } else if (desired < current) {
    const limit = Math.max(scaleDownLimit(now, current, input.events, input.down), min);
    if (desired < limit) {
      desired = limit;
      reason = limit === min ? "min_replicas" : "scale-down policy";
    }
  }
  // Outside the bounds already (min or max changed): back inside at once, as Kubernetes does.
  if (desired < min) [desired, reason] = [min, "min_replicas"];
  if (desired > max) [desired, reason] = [max, "max_replicas"];
  return { desired, recommendation, proposals, reason };
}

function stabilize(now: number, current: number, recommendation: number, history: Recommendation[], up: ScalingRules, down: ScalingRules): number {
  let upRecommendation = recommendation;
  let downRecommendation = recommendation;
  for (const r of history) {
    if (r.at > now - up.stabilizationWindowMs) upRecommendation = Math.min(upRecommendation, r.replicas);
    if (r.at > now - down.stabilizationWindowMs) downRecommendation = Math.max(downRecommendation, r.replicas);
  }
  let result = current;
  if (result < upRecommendation) result = upRecommendation;
  if (result > downRecommendation) result = downRecommendation;
  return result;
}

/** Replicas at the start of a policy's period: now less what the autoscaler changed within it. */
function periodStart(now: number, current: number, events: ScaleEvent[], periodMs: number): number {
  return current - events.filter((e) => e.at > now - periodMs).reduce((sum, e) => sum + e.change, 0);
}

function scaleUpLimit(now: number, current: number, events: ScaleEvent[], rules: ScalingRules): number {
  if (rules.selectPolicy === "Disabled" || rules.policies.length === 0) return current;
  const limits = rules.policies.map((p) => {
    const start = periodStart(now, current, events, p.periodMs);
    return p.type === "Pods" ? start + p.value : Math.ceil(start * (1 + p.value / 100));
  });
  return rules.selectPolicy === "Max" ? Math.max(...limits) : Math.min(...limits);
}

function scaleDownLimit(now: number, current: number, events: ScaleEvent[], rules: ScalingRules): number {
  if (rules.selectPolicy === "Disabled" || rules.policies.length === 0) return current;
  const limits = rules.policies.map((p) => {
    const start = periodStart(now, current, events, p.periodMs);
    return p.type === "Pods" ? start - p.value : Math.trunc(start * (1 - p.value / 100));
  });
  // The policy allowing the largest change down is the lowest limit.
  return rules.selectPolicy === "Max" ? Math.min(...limits) : Math.max(...limits);
}
