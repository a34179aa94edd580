/**
 * Replicas of one service on different nodes, so a node's loss takes as few as possible. With
 * binpack it still breaks ties between equally full nodes; its weight is what users tune.
 */
import type { Score } from "../types.js";

export const serviceSpread: Score = {
  name: "serviceSpread",
  applies: () => true,
  scorer: (request) => (node) => 1 / (1 + (node.replicas.get(request.service) ?? 0)),
};
