/** Only ready nodes that are neither cordoned nor draining take new replicas. */
import type { Filter } from "../types.js";

export const schedulable: Filter = {
  passes: (node) => node.ready && !node.cordoned,
  reason: (node) => (!node.ready ? "node not ready" : "node cordoned"),
};
