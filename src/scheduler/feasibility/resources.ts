/** The replica's requests fit in what the node has left of its allocatable CPU, memory and GPUs. */
import type { Filter, NodeCandidate, PlacementRequest } from "../types.js";

export const resourcesFit: Filter = {
  passes(node, request) {
    const { allocatable: a, requested: used } = node;
    const r = request.requests;
    return used.cpuMillis + r.cpuMillis <= a.cpuMillis && used.memoryBytes + r.memoryBytes <= a.memoryBytes && used.gpus + r.gpus <= a.gpus;
  },
  reason: (node, request) => exhausted(node, request),
};

function exhausted(node: NodeCandidate, request: PlacementRequest): string {
  const { allocatable: a, requested: used } = node;
  const r = request.requests;
  if (used.cpuMillis + r.cpuMillis > a.cpuMillis) return "cpu exhausted";
  if (used.memoryBytes + r.memoryBytes > a.memoryBytes) return "memory exhausted";
  return a.gpus === 0 ? "no GPUs" : "GPUs exhausted";
}
