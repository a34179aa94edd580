/**
 * Placement, as Nomad and kube-scheduler do it: feasibility filters drop the nodes that cannot
 * take the replica, weighted scores rank a bounded sample of the rest, the best wins. A replica
 * that fits nowhere gets the reasons, grouped by filter: `3 nodes: cpu exhausted; 1 node:
 * constraint zone in (eu) failed`.
 *
 * Binpack walks the nodes from the first, so it fills the same nodes before touching others (the
 * sample then holds the fullest); spread walks from `startAt`, which callers rotate.
 */
import { constraintsMet } from "./feasibility/constraints.js";
import { fixedPortsFree } from "./feasibility/fixed-ports.js";
import { volumeHere } from "./feasibility/volume-node.js";
import { portsFree } from "./feasibility/ports.js";
import { resourcesFit } from "./feasibility/resources.js";
import { runtimePresent } from "./feasibility/runtime.js";
import { schedulable } from "./feasibility/schedulable.js";
import { affinity } from "./scores/affinity.js";
import { energy } from "./scores/energy.js";
import { fit } from "./scores/fit.js";
import { serviceSpread } from "./scores/service-spread.js";
import { topologySpread } from "./scores/topology-spread.js";
import { DEFAULT_SAMPLE_SIZE, DEFAULT_WEIGHTS, type Decision, type Filter, type NodeCandidate, type PlacementRequest, type Score, type ScheduleSettings, type ScoreWeights } from "./types.js";

/** Cheapest and most often decisive first: a node is dropped at its first failing filter. */
export const FILTERS: readonly Filter[] = [schedulable, resourcesFit, runtimePresent, constraintsMet, portsFree, fixedPortsFree, volumeHere];
export const SCORES: readonly Score[] = [fit, serviceSpread, topologySpread, affinity, energy];

export const DEFAULT_SETTINGS: ScheduleSettings = { sampleSize: DEFAULT_SAMPLE_SIZE, startAt: 0, weights: DEFAULT_WEIGHTS };

export function schedule(request: PlacementRequest, nodes: readonly NodeCandidate[], settings: Partial<ScheduleSettings> = {}): Decision {
  const { sampleSize, startAt, weights } = { ...DEFAULT_SETTINGS, ...settings };
  const count = nodes.length;
  const limit = sampleSize > 0 ? sampleSize : count;
  const start = request.placement.strategy === "binpack" || count === 0 ? 0 : ((startAt % count) + count) % count;
  const candidates: NodeCandidate[] = [];
  for (let i = start; i < count && candidates.length < limit; i++) if (feasible(nodes[i]!, request)) candidates.push(nodes[i]!);
  for (let i = 0; i < start && candidates.length < limit; i++) if (feasible(nodes[i]!, request)) candidates.push(nodes[i]!);
  if (candidates.length === 0) return unplaceable(request, nodes);

  const active = SCORES.filter((s) => weights[s.name] > 0 && s.applies(request)).map((s) => ({ name: s.name, weight: weights[s.name], of: s.scorer(request, candidates, nodes) }));
  const totalWeight = active.reduce((sum, s) => sum + s.weight, 0);
  let best = candidates[0]!;
  let bestScore = -1;
  for (const node of candidates) {
    let score = 0;
    for (const s of active) score += s.weight * s.of(node);
    if (score > bestScore) {
      bestScore = score;
      best = node;
    }
  }
  const scores = Object.fromEntries(Object.keys(weights).map((name) => [name, 0])) as Record<keyof ScoreWeights, number>;
  for (const s of active) scores[s.name] = round(s.of(best));
  return { node: best.name, score: round(bestScore / totalWeight), scores, considered: candidates.length };
}

function feasible(node: NodeCandidate, request: PlacementRequest): boolean {
  // Most nodes a busy cluster rejects are full: that test first, inline, before the pipeline.
  const { allocatable: a, requested: used } = node;
  const r = request.requests;
  if (used.cpuMillis + r.cpuMillis > a.cpuMillis || used.memoryBytes + r.memoryBytes > a.memoryBytes) return false;
  for (const filter of FILTERS) if (!filter.passes(node, request)) return false;
  return true;
}

/** Every node's first failing filter, counted by reason, most common first. */
function unplaceable(request: PlacementRequest, nodes: readonly NodeCandidate[]): Decision {
  const counts = new Map<string, number>();
  for (const node of nodes) {
    const failed = FILTERS.find((f) => !f.passes(node, request))!;
    const reason = failed.reason(node, request);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const reasons = [...counts].map(([reason, n]) => ({ reason, nodes: n })).sort((a, b) => b.nodes - a.nodes || a.reason.localeCompare(b.reason));
  const message = nodes.length === 0 ? "no nodes" : reasons.map((r) => `${r.nodes} node${r.nodes === 1 ? "" : "s"}: ${r.reason}`).join("; ");
  return { node: null, reasons, message };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
