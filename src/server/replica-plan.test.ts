import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReplicaRecord } from "../contract/index.js";
import { NO_HEALING } from "./healing.js";
import { planReplicas, type ServiceView } from "./replica-plan.js";

const now = 10_000;
let counter = 0;
function replica(patch: Partial<ReplicaRecord>): ReplicaRecord {
  counter += 1;
  return {
    id: `r${counter}`, service: "default/api", revision: 1, node: "local", state: "ready", ports: {}, pid: 1, restarts: 0,
    consecutiveFailures: 0, lastExit: null, reason: "", startedAt: 0, readyAt: 0, nextStartAt: null, healing: NO_HEALING, createdAt: counter, updatedAt: 0,
    ...patch,
  };
}
const service: ServiceView = { name: "default/api", revision: 1, replicas: 2, enabled: true, deleting: false, waitingFor: [] };
const kinds = (plan: ReturnType<typeof planReplicas>) => plan.actions.map((a) => ("replica" in a ? `${a.type}:${a.replica}` : a.type));

test("creates missing replicas and leaves a complete set alone", () => {
  assert.deepEqual(kinds(planReplicas(service, [], now)), ["create", "create"]);
  assert.deepEqual(kinds(planReplicas(service, [replica({ id: "a" }), replica({ id: "b" })], now)), []);
});

test("scales down the newest, not-ready replicas first", () => {
  const set = [replica({ id: "old" }), replica({ id: "mid" }), replica({ id: "new" }), replica({ id: "starting", state: "running" })];
  assert.deepEqual(kinds(planReplicas({ ...service, replicas: 2 }, set, now)), ["stop:starting", "stop:new"]);
});

test("restarts an exited replica when its backoff is over, and wakes up for one that is not", () => {
  const due = replica({ id: "due", state: "exited", nextStartAt: now - 1 });
  const later = replica({ id: "later", state: "crash_loop", nextStartAt: now + 500 });
  const plan = planReplicas(service, [due, later], now);
  assert.deepEqual(kinds(plan), ["start:due"]);
  assert.equal(plan.wakeAt, now + 500);
});

test("a replica that ended for good keeps its slot and is not restarted", () => {
  assert.deepEqual(kinds(planReplicas(service, [replica({ id: "done", state: "failed", nextStartAt: null }), replica({ id: "b" })], now)), []);
});

test("waits for dependencies before the first replica, not after", () => {
  assert.deepEqual(kinds(planReplicas({ ...service, waitingFor: ["db"] }, [], now)), []);
  assert.deepEqual(kinds(planReplicas({ ...service, waitingFor: ["db"] }, [replica({ id: "a" })], now)), ["create"]);
});

test("a new revision: surge first, old replicas go as new ones become ready", () => {
  const next = { ...service, revision: 2 };
  const old = [replica({ id: "o1" }), replica({ id: "o2" })];
  assert.deepEqual(kinds(planReplicas(next, old, now)), ["create", "create"]);
  const oneReady = [...old, replica({ id: "n1", revision: 2 }), replica({ id: "n2", revision: 2, state: "running" })];
  assert.deepEqual(kinds(planReplicas(next, oneReady, now)), ["stop:o2"]);
  const allReady = [...old, replica({ id: "n1", revision: 2 }), replica({ id: "n2", revision: 2 })];
  assert.deepEqual(kinds(planReplicas(next, allReady, now)), ["stop:o1", "stop:o2"]);
});

test("stopped and deleted services stop everything; a deleted one goes when empty", () => {
  const set = [replica({ id: "a" }), replica({ id: "gone", state: "exited", nextStartAt: null })];
  assert.deepEqual(kinds(planReplicas({ ...service, enabled: false }, set, now)), ["stop:a", "remove:gone"]);
  assert.deepEqual(kinds(planReplicas({ ...service, deleting: true }, [], now)), ["removeService"]);
  assert.deepEqual(kinds(planReplicas({ ...service, deleting: true }, [replica({ id: "t", state: "terminating" })], now)), []);
});

test("replicas on a draining node are replaced surge-first: new ones start, the moved ones stop only as those are ready", () => {
  const a = replica({ id: "a", node: "n1" });
  const b = replica({ id: "b", node: "n2" });
  const moving = new Set(["b"]);
  assert.deepEqual(kinds(planReplicas({ ...service, moving }, [a, b], now)), ["create"]);
  const starting = replica({ id: "c", state: "running", node: "n3" });
  assert.deepEqual(kinds(planReplicas({ ...service, moving }, [a, b, starting], now)), []);
  const ready = { ...starting, state: "ready" as const };
  assert.deepEqual(kinds(planReplicas({ ...service, moving }, [a, b, ready], now)), ["stop:b"]);
});
