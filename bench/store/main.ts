/**
 * The store side by side, SQLite and PostgreSQL (a real server started for the run, in a temp
 * folder): an apply of 1,000 services in one batch (and again, unchanged), 10,000 replica rows
 * written, a reconcile pass's reads over them (services, every replica, each revision once, as a
 * new leader does), and 1,000 controller writes fenced by the leader's term. Prints a table and
 * writes bench/results/store.json.
 *
 *   npm run bench:store [-- --services 1000 --replicas 10000]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadDescriptors } from "../../src/spec/index.js";
import { contentHash } from "../../src/server/apply-plan.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { fencedStore } from "../../src/store/fenced-store.js";
import type { ServiceChange, Store } from "../../src/store/store.js";
import type { ReplicaRecord } from "../../src/contract/index.js";
import { TestPostgres } from "../../test/postgres-harness.js";
import { writeResult } from "../common.js";

const { values } = parseArgs({ options: { services: { type: "string", default: "1000" }, replicas: { type: "string", default: "10000" } } });
const SERVICES = Number(values.services);
const REPLICAS = Number(values.replicas);
const FENCED_WRITES = 1_000;

function services(): ServiceChange[] {
  const text = Array.from({ length: SERVICES }, (_, i) => `apiVersion: drover/v1\nkind: Service\nmetadata: {name: svc-${i}}\nspec:\n  command: [node, server.js]\n  replicas: ${REPLICAS / SERVICES}\n  networking: {ports: [{name: http, port: ${20_000 + i}}]}\n  configuration: {environment: {INDEX: "${i}"}}\n`).join("---\n");
  return loadDescriptors([{ file: "bench.yaml", text, baseDir: "/" }]).services.map((descriptor) => ({ name: `default/${descriptor.metadata.name}`, descriptor, hash: contentHash(descriptor), replicas: REPLICAS / SERVICES }));
}

function replica(i: number): ReplicaRecord {
  const service = `default/svc-${i % SERVICES}`;
  return { id: `r-${i}`, service, revision: 1, node: `node-${i % 50}`, state: "ready", ports: { http: 30_000 + (i % 20_000) }, pid: 1000 + i, restarts: 0, consecutiveFailures: 0, lastExit: null, reason: "Ready", startedAt: 1, readyAt: 2, nextStartAt: null, healing: { attempts: {}, pending: null, readinessTimeoutFor: null }, createdAt: i, updatedAt: i };
}

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: Math.round((performance.now() - started) * 10) / 10, value };
}

async function measure(store: Store) {
  const batch = { services: services(), configObjects: [], deletions: [], author: "bench", message: "" };
  const apply = await time(() => store.apply(batch));
  const unchanged = await time(() => store.apply(batch));
  const insert = await time(async () => {
    for (let i = 0; i < REPLICAS; i++) await store.insertReplica(replica(i));
  });
  const pass = await time(async () => {
    const list = await store.listServices();
    const rows = await store.listReplicas();
    for (const service of list) await store.getRevision(service.name, service.revision);
    return rows.length;
  });
  const secondPass = await time(async () => (await store.listServices()).length + (await store.listReplicas()).length);
  const lease = await store.claimLease("bench", 60_000);
  const fenced = fencedStore(store, () => lease);
  const writes = await time(async () => {
    for (let i = 0; i < FENCED_WRITES; i++) await fenced.updateReplica(`r-${i}`, { state: "unready", reason: "bench" });
  });
  return {
    applyMs: apply.ms,
    applyUnchangedMs: unchanged.ms,
    insertReplicasMs: insert.ms,
    reconcileReadsMs: pass.ms,
    replicasRead: pass.value,
    servicesAndReplicasReadMs: secondPass.ms,
    fencedWritesMs: writes.ms,
    fencedWriteMeanMs: Math.round((writes.ms / FENCED_WRITES) * 1000) / 1000,
  };
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), "drover-bench-store-"));
const postgres = await TestPostgres.start({ durable: true });
try {
  const sqlite = new SqliteStore(path.join(temp, "drover.db"));
  const sqliteFigures = await measure(sqlite);
  await sqlite.close();
  const pg = await PostgresStore.open(await postgres.createDatabase());
  const postgresFigures = await measure(pg);
  await pg.close();
  const rows: Array<[string, keyof typeof sqliteFigures]> = [
    [`apply ${SERVICES} services (one batch)`, "applyMs"],
    ["the same apply again (no change)", "applyUnchangedMs"],
    [`write ${REPLICAS} replica rows (one by one)`, "insertReplicasMs"],
    [`reconcile reads: services, ${REPLICAS} replicas, each revision`, "reconcileReadsMs"],
    [`services + ${REPLICAS} replicas again`, "servicesAndReplicasReadMs"],
    [`${FENCED_WRITES} fenced controller writes`, "fencedWritesMs"],
  ];
  process.stdout.write(`${"".padEnd(58)}${"SQLite".padStart(12)}${"PostgreSQL".padStart(14)}\n`);
  for (const [label, key] of rows) process.stdout.write(`${label.padEnd(58)}${`${sqliteFigures[key]} ms`.padStart(12)}${`${postgresFigures[key]} ms`.padStart(14)}\n`);
  writeResult("store", { services: SERVICES, replicas: REPLICAS, sqlite: sqliteFigures, postgres: postgresFigures, postgresNote: "a local server on this machine with fsync on; a network between server and database adds its round trip to each query" });
} finally {
  await postgres.close();
  fs.rmSync(temp, { recursive: true, force: true });
}
