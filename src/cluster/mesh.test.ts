import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReplicaStatus, Route } from "../contract/index.js";
import { meshRoutes } from "./mesh.js";

const route: Route = { service: "default/web", portName: "http", port: 8080, protocol: "http", algorithm: "round_robin", weights: null };
function status(id: string, state: ReplicaStatus["state"], port: number, revision = 1): ReplicaStatus {
  return { id, service: "default/web", revision, state, pid: 1, ports: { http: port }, startedAt: 0, exit: null, message: "", probes: [], failing: null };
}

test("each node gets the ready replicas of the other nodes, at their node's address and own port", () => {
  const ready = [
    { node: "a", address: "10.0.0.1", status: status("a1", "ready", 20001) },
    { node: "b", address: "10.0.0.2", status: status("b1", "ready", 20002, 2) },
    { node: "b", address: "10.0.0.2", status: status("b2", "running", 20003) },
    { node: "c", address: "10.0.0.3", status: status("c1", "unready", 20004) },
  ];
  assert.deepEqual(meshRoutes([route], "a", ready)[0]!.remote, [{ replica: "b1", revision: 2, host: "10.0.0.2", port: 20002, hostPort: 20002 }]);
  assert.deepEqual(meshRoutes([route], "b", ready)[0]!.remote!.map((t) => t.replica), ["a1"]);
  assert.deepEqual(meshRoutes([route], "c", ready)[0]!.remote!.map((t) => t.replica), ["a1", "b1"]);
  // A service port with no ready replica elsewhere still gets its route (the node's own replicas serve it).
  assert.deepEqual(meshRoutes([{ ...route, service: "default/other" }], "a", ready)[0]!.remote, []);
});
