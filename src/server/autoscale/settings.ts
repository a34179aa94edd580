/** A service's `scaling` section, resolved into what the autoscaler works with (defaults applied). */
import { autoscales } from "../../spec/checks.js";
import type { ServiceSpec } from "../../spec/index.js";
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, type ScalingRules } from "./hpa.js";

export type ScalingMetric = "cpu" | "memory" | "rps" | "latency_p95";

export interface ThresholdRule {
  metric: ScalingMetric;
  operator: ">" | ">=" | "<" | "<=";
  threshold: number;
  durationMs: number;
  action: "scale_up" | "scale_down";
  step: number;
}

export interface ScalingSettings {
  min: number;
  max: number;
  /** Targets per metric: cpu and memory in percent of the base, rps per replica, latency in ms. */
  targets: Partial<Record<ScalingMetric, number>>;
  /** What 100% CPU is per replica: requests.cpu, else limits.cpu, else one core. */
  cpuBaseCores: number;
  memoryBaseBytes: number | null;
  up: ScalingRules;
  down: ScalingRules;
  rules: ThresholdRule[];
  cooldownMs: number;
  predictive: { seasonMs: number; leadTimeMs: number | null; marginMs: number } | null;
}

type ScalingSpec = NonNullable<ServiceSpec["scaling"]>;

/** Null when the service does not autoscale. */
export function scalingSettings(spec: ServiceSpec): ScalingSettings | null {
  const scaling = spec.scaling;
  if (!scaling || !autoscales(scaling)) return null;
  const { requests, limits } = spec.resources;
  const targets: ScalingSettings["targets"] = {};
  if (scaling.target_cpu_utilization !== undefined) targets.cpu = scaling.target_cpu_utilization;
  if (scaling.target_memory_utilization !== undefined) targets.memory = scaling.target_memory_utilization;
  if (scaling.target_rps_per_replica !== undefined) targets.rps = scaling.target_rps_per_replica;
  if (scaling.target_latency_p95 !== undefined) targets.latency_p95 = scaling.target_latency_p95;
  return {
    min: scaling.min_replicas ?? 1,
    max: scaling.max_replicas!,
    targets,
    cpuBaseCores: (requests.cpu ?? limits.cpu ?? 1000) / 1000,
    memoryBaseBytes: requests.memory ?? limits.memory ?? null,
    up: rules(scaling.scale_up_policy, DEFAULT_SCALE_UP),
    down: rules(scaling.scale_down_policy, DEFAULT_SCALE_DOWN),
    rules: scaling.rules.map((r) => ({ metric: r.metric, operator: r.operator, threshold: r.threshold, durationMs: r.duration, action: r.action, step: r.step })),
    cooldownMs: scaling.cooldown,
    predictive: scaling.predictive?.enabled ? { seasonMs: scaling.predictive.season, leadTimeMs: scaling.predictive.lead_time ?? null, marginMs: scaling.predictive.margin } : null,
  };
}

function rules(policy: ScalingSpec["scale_up_policy"], defaults: ScalingRules): ScalingRules {
  if (!policy) return defaults;
  return {
    stabilizationWindowMs: policy.stabilization_window ?? defaults.stabilizationWindowMs,
    selectPolicy: policy.select_policy,
    policies: policy.policies.length ? policy.policies.map((p) => ({ type: p.type, value: p.value, periodMs: p.period })) : defaults.policies,
  };
}

/** The unit each metric's target and readings are in, for messages. */
export const METRIC_UNITS: Record<ScalingMetric, string> = { cpu: "%", memory: "%", rps: " req/s per replica", latency_p95: " ms" };
