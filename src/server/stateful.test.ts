import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReplicaRecord } from "../contract/index.js";
import { freeOrdinal, orderedActions, orderedByOrdinal, ordinalOf, statefulId } from "./stateful.js";

const replica = (id: string, state: ReplicaRecord["state"] = "ready", createdAt = 0) => ({ id, state, createdAt, nextStartAt: null }) as ReplicaRecord;

test("stable names: db-0 in the default namespace, db-0.shop elsewhere; the ordinal read back; the lowest free one reused", () => {
  assert.equal(statefulId({ name: "default/db", namespace: "default" }, 0), "db-0");
  assert.equal(statefulId({ name: "shop/db", namespace: "shop" }, 12), "db-12.shop");
  assert.deepEqual(["db-0", "db-12.shop", "my-db-3.a-b"].map(ordinalOf), [0, 12, 3]);
  assert.equal(freeOrdinal([replica("db-0"), replica("db-2")]), 1);
  assert.equal(freeOrdinal([]), 0);
});

test("ordered start: one create at a time, only while every replica is ready and none is stopping", () => {
  const creates = [{ type: "create", revision: 1 } as const, { type: "create", revision: 1 } as const];
  assert.deepEqual(orderedActions(creates, []), [creates[0]]);
  assert.deepEqual(orderedActions(creates, [replica("db-0", "starting")]), []);
  assert.deepEqual(orderedActions(creates, [replica("db-0"), replica("db-1", "terminating")]), []);
  assert.deepEqual(orderedActions([...creates, { type: "stop", replica: "db-1", reason: "x" }], [replica("db-0"), replica("db-1")]), [{ type: "stop", replica: "db-1", reason: "x" }]);
  assert.deepEqual(orderedActions(creates, [replica("db-0"), replica("db-1", "failed")]), [creates[0]], "a replica that ended for good does not hold the others back");
});

test("the highest ordinal counts as the newest, whatever its age", () => {
  assert.deepEqual(orderedByOrdinal([replica("db-2", "ready", 5), replica("db-10", "ready", 1)]).map((r) => r.createdAt), [2, 10]);
});
