/** A replica that binds fixed ports on its node (a process's target_port) shares no node with another of its service. */
import type { Filter } from "../types.js";

export const fixedPortsFree: Filter = {
  passes: (node, request) => !request.fixedPorts || (node.replicas.get(request.service) ?? 0) === 0,
  reason: () => "its target_port is bound there by another replica of the service",
};
