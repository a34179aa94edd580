/** The node's agent runs the replica's runtime (process, docker). */
import type { Filter } from "../types.js";

export const runtimePresent: Filter = {
  passes: (node, request) => node.runtimes.includes(request.runtime),
  reason: (_node, request) => `runtime ${request.runtime} not available`,
};
