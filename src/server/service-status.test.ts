import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReplicaRecord, ServiceRecord } from "../contract/index.js";
import { NO_HEALING } from "./healing.js";
import { serviceStatus } from "./service-status.js";

const service: ServiceRecord = { name: "default/api", namespace: "default", revision: 2, replicas: 2, enabled: true, deleting: false, createdAt: 0, updatedAt: 0 };
function replica(patch: Partial<ReplicaRecord>): ReplicaRecord {
  return {
    id: "r", service: "default/api", revision: 2, node: "local", state: "ready", ports: {}, pid: 1, restarts: 0, consecutiveFailures: 0,
    lastExit: null, reason: "", startedAt: 0, readyAt: 0, nextStartAt: null, healing: NO_HEALING, createdAt: 0, updatedAt: 0, ...patch,
  };
}

test("service status from its replicas", () => {
  const cases: Array<[string, ServiceRecord, ReplicaRecord[], string[], string]> = [
    ["all ready", service, [replica({}), replica({})], [], "ready"],
    ["one short", service, [replica({}), replica({ state: "running" })], [], "progressing"],
    ["old revision still there", service, [replica({}), replica({}), replica({ revision: 1 })], [], "progressing"],
    ["waiting for a dependency", service, [], ["db"], "waiting"],
    ["crash loop while waiting out the backoff", service, [replica({}), replica({ state: "crash_loop", consecutiveFailures: 3 })], [], "crash_loop"],
    ["crash loop while starting again", service, [replica({}), replica({ state: "starting", consecutiveFailures: 4 })], [], "crash_loop"],
    ["recovered: ready again", service, [replica({}), replica({ consecutiveFailures: 4 })], [], "ready"],
    ["failed for good", service, [replica({}), replica({ state: "failed" })], [], "failed"],
    ["stopping", { ...service, enabled: false }, [replica({ state: "terminating" })], [], "stopping"],
    ["stopped", { ...service, enabled: false }, [], [], "stopped"],
    ["deleting", { ...service, deleting: true }, [replica({})], [], "deleting"],
  ];
  for (const [name, s, replicas, waiting, expected] of cases) assert.equal(serviceStatus(s, replicas, waiting), expected, name);
});
