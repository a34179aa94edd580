/** Preferred node labels, weighted: the share of the affinity weights a node meets. */
import { labelsMatch } from "../label-expression.js";
import type { Score } from "../types.js";

export const affinity: Score = {
  name: "affinity",
  applies: (request) => request.placement.affinity.length > 0,
  scorer(request) {
    const preferences = request.placement.affinity;
    const total = preferences.reduce((sum, p) => sum + p.weight, 0);
    return (node) => preferences.reduce((met, p) => (labelsMatch(node.labels, p) ? met + p.weight : met), 0) / total;
  },
};
