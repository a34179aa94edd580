/**
 * Right-sizing from observed usage: resource requests from the 95th percentile of what each
 * replica used (plus headroom), and autoscaling settings from how many replicas the load needed
 * minute by minute. Each recommendation says why, and what it would save: CPU and memory that
 * stop being reserved, and watts where fewer replicas would run (a request reserves capacity;
 * power follows what runs, so a smaller request alone saves no watts).
 */
import type { ServiceSpec } from "../../spec/index.js";
import type { MetricPoint } from "../../contract/index.js";
import { mean, percentile } from "../../stats.js";

/** Share above the observed 95th percentile that a request keeps for bursts. */
export const HEADROOM = 0.2;
/** The utilization recommended autoscaling aims for. */
export const TARGET_UTILIZATION = 70;
/** Less history than this and nothing is recommended. */
export const MIN_MINUTES = 30;

export interface ResourceRecommendation {
  field: string;
  current: string;
  recommended: string;
  reason: string;
  saving: { cpuCores: number; memoryBytes: number; watts: number };
}

export interface Recommendations {
  window: { from: number; to: number; minutes: number };
  recommendations: ResourceRecommendation[];
  /** Why there are none, when there are none. */
  note: string | null;
}

export function recommend(spec: ServiceSpec, points: MetricPoint[]): Recommendations {
  const used = points.filter((p) => p.replicas > 0);
  const window = { from: used[0]?.at ?? 0, to: used[used.length - 1]?.at ?? 0, minutes: used.length };
  if (used.length < MIN_MINUTES) return { window, recommendations: [], note: `not enough history: ${used.length} minutes with running replicas, ${MIN_MINUTES} needed` };
  const replicasNow = mean(used.slice(-10).map((p) => p.replicas));
  const perReplica = (value: (p: MetricPoint) => number) => used.map((p) => value(p) / p.replicas);
  const cpu = perReplica((p) => p.cpuCores);
  const memory = perReplica((p) => p.memoryBytes);
  const watts = perReplica((p) => p.watts);
  const recommendations: ResourceRecommendation[] = [];

  const { requests, limits } = spec.resources;
  const cpuP95 = percentile(cpu, 95);
  const cpuRecommended = Math.max(10, Math.ceil((cpuP95 * (1 + HEADROOM) * 1000) / 10) * 10);
  const cpuReason = `95% of minutes each replica used at most ${millicores(cpuP95 * 1000)} (peak ${millicores(Math.max(...cpu) * 1000)}), plus ${HEADROOM * 100}% headroom`;
  recommendations.push(requestChange("resources.requests.cpu", requests.cpu, cpuRecommended, millicores, cpuReason, (d) => ({ cpuCores: (d / 1000) * replicasNow, memoryBytes: 0, watts: 0 })));

  const memoryP95 = percentile(memory, 95);
  const mi = 1024 * 1024;
  const memoryRecommended = Math.max(mi, Math.ceil((memoryP95 * (1 + HEADROOM)) / mi) * mi);
  const memoryReason = `95% of minutes each replica used at most ${mebibytes(memoryP95)} (peak ${mebibytes(Math.max(...memory))}), plus ${HEADROOM * 100}% headroom`;
  recommendations.push(requestChange("resources.requests.memory", requests.memory, memoryRecommended, mebibytes, memoryReason, (d) => ({ cpuCores: 0, memoryBytes: d * replicasNow, watts: 0 })));
  if (limits.memory !== undefined && limits.memory < memoryRecommended) {
    recommendations.push({ field: "resources.limits.memory", current: mebibytes(limits.memory), recommended: mebibytes(memoryRecommended), reason: `the limit is below what replicas need at their 95th percentile with headroom: OOM kills are likely`, saving: { cpuCores: 0, memoryBytes: 0, watts: 0 } });
  }

  // Replicas the load needed each minute, at the target utilization of the CPU each one has.
  const base = (requests.cpu ?? limits.cpu ?? cpuRecommended) / 1000;
  const needed = used.map((p) => Math.max(1, Math.ceil(p.cpuCores / ((base * TARGET_UTILIZATION) / 100))));
  const ran = mean(used.map((p) => p.replicas));
  const need = mean(needed);
  const minReplicas = Math.max(1, Math.floor(percentile(needed, 10)));
  const maxReplicas = Math.max(minReplicas, Math.ceil(Math.max(...needed) * 1.5));
  const fewer = Math.max(0, ran - need);
  const scaling = spec.scaling;
  const current = scaling?.target_cpu_utilization !== undefined ? `min ${scaling.min_replicas ?? 1}, max ${scaling.max_replicas}, CPU ${scaling.target_cpu_utilization}%` : `fixed at ${spec.replicas} replicas`;
  recommendations.push({
    field: "scaling",
    current,
    recommended: `min_replicas ${minReplicas}, max_replicas ${maxReplicas}, target_cpu_utilization ${TARGET_UTILIZATION}`,
    reason: `${round(ran)} replicas ran on average; the load needed ${round(need)} (at most ${Math.max(...needed)}) at ${TARGET_UTILIZATION}% of ${millicores(base * 1000)} each`,
    saving: { cpuCores: fewer * cpuRecommended / 1000, memoryBytes: fewer * memoryRecommended, watts: fewer * mean(watts) },
  });
  return { window, recommendations, note: null };
}

function requestChange(field: string, current: number | undefined, recommended: number, format: (v: number) => string, reason: string, saving: (decrease: number) => ResourceRecommendation["saving"]): ResourceRecommendation {
  if (current === undefined) return { field, current: "not set", recommended: format(recommended), reason: `${reason}; without a request nothing is reserved and utilization has no base`, saving: { cpuCores: 0, memoryBytes: 0, watts: 0 } };
  const decrease = current - recommended;
  const direction = decrease > 0 ? "over-reserved" : decrease < 0 ? "under-reserved: raise it before it starves" : "right-sized";
  return { field, current: format(current), recommended: format(recommended), reason: `${reason}; ${direction}`, saving: saving(Math.max(0, decrease)) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function millicores(value: number): string {
  return `${Math.round(value)}m`;
}

function mebibytes(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)}Mi`;
}
