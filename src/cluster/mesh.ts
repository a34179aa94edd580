/**
 * The routing mesh: every node's router serves every service port, and forwards to the ready
 * replicas of the service on any node. A node knows its own replicas; the server tells it where
 * the others are — at the address of their node, on their own port.
 */
import type { BackendTarget, ReplicaStatus, Route } from "../contract/index.js";

export interface ReadyReplica {
  node: string;
  /** Where other nodes reach the replica's node. */
  address: string;
  status: ReplicaStatus;
}

/** The routes for `node`: each with the ready replicas of the service on the other nodes. */
export function meshRoutes(routes: Route[], node: string, replicas: ReadyReplica[]): Route[] {
  const elsewhere = new Map<string, BackendTarget[]>();
  for (const { node: at, address, status } of replicas) {
    if (at === node || status.state !== "ready") continue;
    for (const [portName, port] of Object.entries(status.ports)) {
      const key = `${status.service}\0${portName}`;
      const list = elsewhere.get(key) ?? [];
      list.push({ replica: status.id, revision: status.revision, host: address, port, hostPort: port });
      elsewhere.set(key, list);
    }
  }
  return routes.map((r) => ({ ...r, remote: elsewhere.get(`${r.service}\0${r.portName}`) ?? [] }));
}
