/**
 * One service's autoscaling decisions, step by step: the HPA calculation over its targets,
 * threshold rules with their durations and cooldown, and a forecast's floor. No I/O and no
 * clock of its own, so a load trace can be replayed through it in a test as fast as it runs.
 *
 * Combining: when anything asks for more replicas, the largest ask wins; otherwise the count goes
 * down only as far as every mechanism agrees (the highest proposal). A forecast only raises the
 * floor. min_replicas and max_replicas bound the result.
 */
import type { MetricPoint } from "../../contract/index.js";
import { decideReplicas, DEFAULT_TOLERANCE, type HpaDecision, type Recommendation, type ScaleEvent } from "./hpa.js";
import { METRIC_UNITS, type ScalingMetric, type ScalingSettings, type ThresholdRule } from "./settings.js";

export type Readings = Record<ScalingMetric, number | null>;

export interface ForecastFloor {
  /** Replicas the forecast load needs at now + lead time. */
  replicas: number;
  /** The load forecast, in the unit of `metric`'s total (rps, or CPU cores). */
  load: number;
  metric: "rps" | "cpu";
  leadTimeMs: number;
}

export interface ScalingDecision {
  at: number;
  from: number;
  to: number;
  readings: Array<{ metric: ScalingMetric; value: number | null; target: number | null }>;
  hpa: Pick<HpaDecision, "recommendation" | "reason" | "proposals"> | null;
  rule: string | null;
  floor: ForecastFloor | null;
  /** The whole story in one line, for events and `autoscale status`. */
  text: string;
}

/** How old the newest sample may be before its metrics count as missing. */
export const STALE_AFTER_INTERVALS = 3;

/** Per-replica values of a service's newest sample; null where it has none (or it is stale). */
export function readingsOf(settings: ScalingSettings, point: MetricPoint | null, replicas: number, fresh: boolean): Readings {
  if (!point || !fresh || replicas === 0) return { cpu: null, memory: null, rps: null, latency_p95: null };
  return {
    cpu: (100 * point.cpuCores) / replicas / settings.cpuBaseCores,
    memory: settings.memoryBaseBytes ? (100 * point.memoryBytes) / replicas / settings.memoryBaseBytes : null,
    rps: point.requestsPerSecond / replicas,
    // No requests, no latency to speak of: not a missing metric.
    latency_p95: point.p95Ms ?? (point.requestsPerSecond === 0 ? 0 : null),
  };
}

export class ServiceScaler {
  private recommendations: Recommendation[] = [];
  private events: ScaleEvent[] = [];
  /** Per rule: since when its condition has held (null: it does not hold now). */
  private ruleSince: Array<number | null> = [];
  private lastRuleAt = -Infinity;
  readonly decisions: ScalingDecision[] = [];

  constructor(public settings: ScalingSettings) {}

  step(now: number, current: number, readings: Readings, floor: ForecastFloor | null): ScalingDecision {
    const { settings } = this;
    const proposals: number[] = [];
    const parts: string[] = [];
    const metrics = Object.keys(settings.targets) as ScalingMetric[];
    let hpa: HpaDecision | null = null;
    if (metrics.length > 0) {
      hpa = decideReplicas({
        now,
        current,
        min: settings.min,
        max: settings.max,
        metrics: metrics.map((name) => ({ name, value: readings[name], target: settings.targets[name]! })),
        up: settings.up,
        down: settings.down,
        recommendations: this.recommendations,
        events: this.events,
      });
      this.recommendations.push({ at: now, replicas: hpa.recommendation });
      proposals.push(hpa.desired);
      const asked = hpa.proposals.map((p) => {
        if (p.value === null) return `${p.name} missing`;
        const unit = METRIC_UNITS[p.name as ScalingMetric];
        const formula = Math.abs(p.ratio! - 1) <= DEFAULT_TOLERANCE ? `within 10%, stays ${p.replicas}` : `ceil(${current} × ${round(p.value)}/${p.target}) = ${p.replicas}`;
        return `${p.name} ${round(p.value)}${unit} (target ${p.target}${unit}): ${formula}`;
      });
      parts.push(`${asked.join(", ")}; ${hpa.reason} → ${hpa.desired}`);
    }
    const fired = this.firedRule(now, readings);
    if (fired) {
      const proposal = fired.action === "scale_up" ? current + fired.step : current - fired.step;
      proposals.push(proposal);
      parts.push(`rule ${ruleText(fired)} → ${proposal}`);
    }
    let desired = proposals.length === 0 ? current : Math.max(...proposals);
    if (floor && floor.replicas > desired) {
      desired = floor.replicas;
      parts.push(`forecast ${round(floor.load)} ${floor.metric === "rps" ? "req/s" : "cores"} in ${Math.round(floor.leadTimeMs / 1000)}s needs ${floor.replicas}`);
    }
    desired = Math.min(settings.max, Math.max(settings.min, desired));
    if (desired !== current) {
      this.events.push({ at: now, change: desired - current });
      if (fired && (fired.action === "scale_up") === desired > current) this.lastRuleAt = now;
    }
    this.forget(now);
    const decision: ScalingDecision = {
      at: now,
      from: current,
      to: desired,
      readings: (["cpu", "memory", "rps", "latency_p95"] as const).map((metric) => ({ metric, value: readings[metric], target: settings.targets[metric] ?? null })),
      hpa: hpa && { recommendation: hpa.recommendation, reason: hpa.reason, proposals: hpa.proposals },
      rule: fired ? ruleText(fired) : null,
      floor,
      text: `${current} → ${desired}: ${parts.join("; ") || "nothing to scale on"}`,
    };
    this.decisions.push(decision);
    if (this.decisions.length > 50) this.decisions.shift();
    return decision;
  }

  /** The rule whose condition has held for its duration, outside the cooldown; scale-up rules first. */
  private firedRule(now: number, readings: Readings): ThresholdRule | null {
    const { rules, cooldownMs } = this.settings;
    let up: ThresholdRule | null = null;
    let down: ThresholdRule | null = null;
    rules.forEach((rule, i) => {
      const value = readings[rule.metric];
      const holds = value !== null && compare(value, rule.operator, rule.threshold);
      this.ruleSince[i] = holds ? (this.ruleSince[i] ?? now) : null;
      if (!holds || now - this.ruleSince[i]! < rule.durationMs) return;
      if (rule.action === "scale_up" && (!up || rule.step > up.step)) up = rule;
      if (rule.action === "scale_down" && (!down || rule.step > down.step)) down = rule;
    });
    if (now - this.lastRuleAt < cooldownMs) return null;
    return up ?? down;
  }

  /** Keeps what the windows and policy periods can still see. */
  private forget(now: number): void {
    const { up, down } = this.settings;
    const horizon = Math.max(up.stabilizationWindowMs, down.stabilizationWindowMs, ...up.policies.map((p) => p.periodMs), ...down.policies.map((p) => p.periodMs));
    this.recommendations = this.recommendations.filter((r) => r.at > now - horizon);
    this.events = this.events.filter((e) => e.at > now - horizon);
  }
}

function compare(value: number, operator: ThresholdRule["operator"], threshold: number): boolean {
  switch (operator) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
  }
}

function ruleText(rule: ThresholdRule): string {
  return `${rule.metric} ${rule.operator} ${rule.threshold} for ${Math.round(rule.durationMs / 1000)}s: ${rule.action} ${rule.step}`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
