import { test } from "node:test";
import assert from "node:assert/strict";
import type { RevisionRecord } from "../contract/index.js";
import { ROLLBACK_FROM, ROLLBACK_TO, rollbackTarget } from "./rollback.js";

function revision(number: number, image: string, annotations: Record<string, string> = {}): RevisionRecord {
  const descriptor = { apiVersion: "drover/v1", kind: "Service", metadata: { name: "api", namespace: "default", annotations }, spec: { command: [image] } } as unknown as RevisionRecord["descriptor"];
  return { service: "default/api", number, descriptor, hash: "", author: "t", message: "", createdAt: number };
}

test("goes back to the newest earlier revision with a different spec", () => {
  const revisions = [revision(1, "v1"), revision(2, "v2"), revision(3, "v2", { "drover.dev/restarted-at": "x" }), revision(4, "v3")];
  assert.equal(rollbackTarget(revisions, 4)?.number, 3);
  assert.equal(rollbackTarget(revisions, 1), null);
});

test("never returns to a revision a rollback has left, so two bad revisions cannot take turns", () => {
  const revisions = [revision(1, "v1"), revision(2, "v2"), revision(3, "v1", { [ROLLBACK_FROM]: "2", [ROLLBACK_TO]: "1" })];
  // Revision 3 is revision 1 again; 2 was left by a rollback, and 1 has the same spec as 3.
  assert.equal(rollbackTarget(revisions, 3), null);
});
