/** A replica whose volumes exist goes to the node they are on (node-local storage does not move). */
import type { Filter } from "../types.js";

export const volumeHere: Filter = {
  passes: (node, request) => request.node === undefined || node.name === request.node,
  reason: (_node, request) => `its volumes are on node ${request.node}`,
};
