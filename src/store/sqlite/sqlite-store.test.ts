import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { loadDescriptors } from "../../spec/index.js";
import { MIGRATIONS } from "./migrations.js";
import { SqliteStore } from "./sqlite-store.js";

function descriptor(message: string) {
  const text = `apiVersion: drover/v1\nkind: Service\nmetadata: {name: api}\nspec: {command: [node], configuration: {environment: {MESSAGE: "${message}"}}}\n`;
  return loadDescriptors([{ file: "t.yaml", text, baseDir: "/" }]).services[0]!;
}

test("apply creates a revision only when the content changes, and state survives a reopen", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-store-"));
  const file = path.join(dir, "drover.db");
  let now = 1000;
  const store = new SqliteStore(file, () => now);
  const batch = (message: string, hash: string, replicas = 1) => ({
    services: [{ name: "default/api", descriptor: descriptor(message), hash, replicas }],
    configObjects: [],
    deletions: [],
    author: "tester",
    message: "",
  });
  assert.deepEqual((await store.apply(batch("a", "h1"))).services, [{ name: "default/api", revision: 1, outcome: "created" }]);
  now = 2000;
  assert.deepEqual((await store.apply(batch("a", "h1", 3))).services, [{ name: "default/api", revision: 1, outcome: "unchanged" }]);
  assert.equal((await store.getService("default/api"))?.replicas, 3, "the replica count changes without a revision");
  assert.deepEqual((await store.apply(batch("b", "h2"))).services, [{ name: "default/api", revision: 2, outcome: "changed" }]);
  await store.close();

  const reopened = new SqliteStore(file);
  const revisions = await reopened.listRevisions("default/api");
  assert.deepEqual(revisions.map((r) => [r.number, r.hash, r.author, r.descriptor.spec.configuration.environment.MESSAGE]), [[1, "h1", "tester", "a"], [2, "h2", "tester", "b"]]);
  assert.equal((await reopened.getService("default/api"))?.revision, 2);
  assert.equal((await reopened.listEvents()).filter((e) => e.type === "RevisionCreated").length, 2);
  await reopened.close();
  const raw = new Database(file);
  assert.equal(raw.pragma("user_version", { simple: true }), MIGRATIONS.length);
  assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
  raw.close();
  fs.rmSync(dir, { recursive: true });
});

test("replica rows round-trip every field", async () => {
  const store = new SqliteStore(":memory:");
  const replica = {
    id: "api-1", service: "default/api", revision: 1, node: "local", state: "ready" as const, ports: { http: 20001 }, pid: 42, restarts: 2,
    consecutiveFailures: 1, lastExit: { code: 1, signal: null, at: 5 }, reason: "Ready", startedAt: 3, readyAt: 4, nextStartAt: null,
    healing: { attempts: { "0": 2 }, pending: { trigger: "liveness_failure" as const, action: "restart" as const, delayMs: 100, reason: "x" }, readinessTimeoutFor: 3 }, createdAt: 1, updatedAt: 1,
  };
  await store.insertReplica(replica);
  assert.deepEqual(await store.getReplica("api-1"), replica);
  await store.updateReplica("api-1", { state: "exited", lastExit: null, nextStartAt: 99, ports: { http: 20002 } });
  const updated = await store.getReplica("api-1");
  assert.deepEqual([updated?.state, updated?.lastExit, updated?.nextStartAt, updated?.ports], ["exited", null, 99, { http: 20002 }]);
  await store.close();
});
