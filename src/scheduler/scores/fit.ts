/**
 * How full the node would be with the replica (CPU and memory, averaged): binpack prefers the
 * fullest node, so whole nodes stay free for large replicas and idle ones can go; spread prefers
 * the emptiest, so a node's loss costs least.
 */
import type { NodeCandidate, PlacementRequest, Score } from "../types.js";

export const fit: Score = {
  name: "fit",
  applies: () => true,
  scorer: (request) => (request.placement.strategy === "binpack" ? (node) => utilisationAfter(node, request) : (node) => 1 - utilisationAfter(node, request)),
};

function utilisationAfter(node: NodeCandidate, request: PlacementRequest): number {
  const { allocatable: a, requested: used } = node;
  const r = request.requests;
  const cpu = a.cpuMillis > 0 ? (used.cpuMillis + r.cpuMillis) / a.cpuMillis : 1;
  const memory = a.memoryBytes > 0 ? (used.memoryBytes + r.memoryBytes) / a.memoryBytes : 1;
  return Math.min(1, (cpu + memory) / 2);
}
