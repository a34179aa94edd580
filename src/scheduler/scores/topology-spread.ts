/**
 * Replicas of one service spread evenly over the values of a topology label (`zone`, `rack`):
 * a node scores by how far its domain is behind the fullest domain. Nodes without the label
 * score 0, so they are used only when nothing labelled fits.
 */
import type { Score } from "../types.js";

export const topologySpread: Score = {
  name: "topologySpread",
  applies: (request) => request.placement.spread_by.length > 0,
  scorer(request, _candidates, all) {
    // Per spread_by label: the service's replicas per label value, over every node.
    const domains = request.placement.spread_by.map((label) => {
      const counts = new Map<string, number>();
      for (const node of all) {
        const value = node.labels[label];
        if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + (node.replicas.get(request.service) ?? 0));
      }
      return { label, counts, max: Math.max(0, ...counts.values()) };
    });
    return (node) => {
      let total = 0;
      for (const { label, counts, max } of domains) {
        const value = node.labels[label];
        if (value !== undefined) total += (max - (counts.get(value) ?? 0) + 1) / (max + 1);
      }
      return total / domains.length;
    };
  },
};
