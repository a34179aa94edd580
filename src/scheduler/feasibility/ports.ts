/** The node's replica port range has a port left for each of the replica's ports. */
import type { Filter } from "../types.js";

export const portsFree: Filter = {
  passes: (node, request) => node.freePorts >= request.ports,
  reason: () => "no free ports",
};
