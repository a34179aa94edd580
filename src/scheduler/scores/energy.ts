/**
 * Power: a node whose next busy core costs fewer watts scores higher (the most efficient node of
 * the sample scores 1). Watts come from RAPL where the node can read it, else the energy model.
 */
import type { Score } from "../types.js";

export const energy: Score = {
  name: "energy",
  applies: () => true,
  scorer(_request, candidates) {
    let lowest = Infinity;
    for (const node of candidates) if (node.wattsPerCore > 0) lowest = Math.min(lowest, node.wattsPerCore);
    return (node) => (node.wattsPerCore > 0 && Number.isFinite(lowest) ? lowest / node.wattsPerCore : 1);
  },
};
