/**
 * The Store contract, one suite run against both stores: SQLite (a file) and PostgreSQL (a real
 * server started for this file). Whatever the API and controllers rely on is asserted here once.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadDescriptors } from "../src/spec/index.js";
import { SecretBox } from "../src/security/secret-box.js";
import { verifyChain } from "../src/security/audit-chain.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { fencedStore } from "../src/store/fenced-store.js";
import { StaleLeaderError, type Store } from "../src/store/store.js";
import { EMPTY_JOB_STATUS, type ReplicaRecord } from "../src/contract/index.js";
import { TestPostgres } from "./postgres-harness.js";
import { waitFor } from "./harness.js";

interface Dialect {
  name: string;
  /** A fresh, empty store location (a file path or a database URL). */
  location(): Promise<string>;
  open(location: string, options?: { now?: () => number; cipher?: SecretBox }): Promise<Store>;
  /** The raw text stored for a secret (sealed or not), read around the store. */
  rawSecret(location: string, name: string): Promise<string>;
  /** Marks the schema as written by a newer drover. */
  bumpSchema(location: string): Promise<void>;
}

let postgres: TestPostgres;
const temp = fs.mkdtempSync(path.join(os.tmpdir(), "drover-contract-"));
let files = 0;
before(async () => {
  postgres = await TestPostgres.start();
});
after(async () => {
  await postgres?.close();
  fs.rmSync(temp, { recursive: true, force: true });
});

const sqlite: Dialect = {
  name: "sqlite",
  location: async () => path.join(temp, `store-${++files}.db`),
  open: async (file, options = {}) => new SqliteStore(file, options.now, options.cipher ?? null),
  rawSecret: async (file, name) => {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(file, { readonly: true });
    try {
      return String((db.prepare("SELECT data FROM config_objects WHERE kind = 'Secret' AND name = ?").get(name) as { data: string }).data);
    } finally {
      db.close();
    }
  },
  bumpSchema: async (file) => {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(file);
    db.pragma("user_version = 999");
    db.close();
  },
};

const postgresDialect: Dialect = {
  name: "postgres",
  location: () => postgres.createDatabase(),
  open: (url, options = {}) => PostgresStore.open(url, options),
  rawSecret: async (url, name) => String((await postgres.sql(`SELECT data FROM config_objects WHERE kind = 'Secret' AND name = '${name}'`, new URL(url).pathname.slice(1))).rows[0].data),
  bumpSchema: async (url) => void (await postgres.sql("UPDATE drover_schema SET version = 999", new URL(url).pathname.slice(1))),
};

function descriptor(message: string, name = "api") {
  const text = `apiVersion: drover/v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {command: [node], configuration: {environment: {MESSAGE: "${message}"}}}\n`;
  return loadDescriptors([{ file: "t.yaml", text, baseDir: "/" }]).services[0]!;
}

function batch(message: string, hash: string, replicas = 1, name = "api") {
  return { services: [{ name: `default/${name}`, descriptor: descriptor(message, name), hash, replicas }], configObjects: [], deletions: [], author: "tester", message: "" };
}

function replica(id: string): ReplicaRecord {
  return {
    id, service: "default/api", revision: 1, node: "local", state: "ready", ports: { http: 20001 }, pid: 42, restarts: 2,
    consecutiveFailures: 1, lastExit: { code: 1, signal: null, at: 5 }, reason: "Ready", startedAt: 3, readyAt: 4, nextStartAt: null,
    healing: { attempts: { "0": 2 }, pending: { trigger: "liveness_failure", action: "restart", delayMs: 100, reason: "x" }, readinessTimeoutFor: 3 }, createdAt: 1, updatedAt: 1,
  };
}

const box = () => SecretBox.open(fs.mkdtempSync(path.join(temp, "home-")));

for (const dialect of [sqlite, postgresDialect]) {
  describe(`the ${dialect.name} store`, () => {
    test("apply makes a revision only when the content changes; state survives a reopen", async () => {
      const location = await dialect.location();
      let now = 1000;
      const store = await dialect.open(location, { now: () => now });
      assert.deepEqual((await store.apply(batch("a", "h1"))).services, [{ name: "default/api", revision: 1, outcome: "created" }]);
      now = 2000;
      assert.deepEqual((await store.apply(batch("a", "h1", 3))).services, [{ name: "default/api", revision: 1, outcome: "unchanged" }]);
      assert.equal((await store.getService("default/api"))?.replicas, 3, "the replica count changes without a revision");
      assert.deepEqual((await store.apply(batch("b", "h2"))).services, [{ name: "default/api", revision: 2, outcome: "changed" }]);
      const deleted = await store.apply({ ...batch("b", "h2"), services: [], deletions: ["default/api"] });
      assert.deepEqual(deleted.events.map((e) => e.type), ["ServiceDeleting"]);
      assert.equal((await store.getService("default/api"))?.deleting, true);
      await store.close();

      const reopened = await dialect.open(location);
      const revisions = await reopened.listRevisions("default/api");
      assert.deepEqual(revisions.map((r) => [r.number, r.hash, r.author, r.createdAt, r.descriptor.spec.configuration.environment.MESSAGE]), [[1, "h1", "tester", 1000, "a"], [2, "h2", "tester", 2000, "b"]]);
      const service = (await reopened.getService("default/api"))!;
      assert.deepEqual([service.revision, service.replicas, service.enabled, service.createdAt, service.updatedAt], [2, 1, true, 1000, 2000]);
      assert.deepEqual((await reopened.listEvents()).map((e) => e.type), ["RevisionCreated", "RevisionCreated", "ServiceDeleting"]);
      assert.equal(reopened.description.dialect, dialect.name);
      await reopened.removeService("default/api");
      assert.deepEqual([await reopened.getService("default/api"), (await reopened.listRevisions("default/api")).length], [undefined, 0]);
      await reopened.close();
    });

    test("replica rows round-trip every field; patches change only what they name", async () => {
      const store = await dialect.open(await dialect.location());
      await store.insertReplica(replica("api-1"));
      assert.deepEqual(await store.getReplica("api-1"), replica("api-1"));
      await store.updateReplica("api-1", { state: "exited", lastExit: null, nextStartAt: 99, ports: { http: 20002 } });
      const updated = (await store.getReplica("api-1"))!;
      assert.deepEqual([updated.state, updated.lastExit, updated.nextStartAt, updated.ports, updated.pid, updated.healing], ["exited", null, 99, { http: 20002 }, 42, replica("x").healing]);
      await store.insertReplica({ ...replica("api-2"), createdAt: 2 });
      assert.deepEqual((await store.listReplicas("default/api")).map((r) => r.id), ["api-1", "api-2"]);
      await store.deleteReplica("api-1");
      assert.deepEqual((await store.listReplicas()).map((r) => r.id), ["api-2"]);
      await store.close();
    });

    test("secrets are sealed at rest and open with the key; config objects are versioned", async () => {
      const location = await dialect.location();
      const cipher = box();
      const store = await dialect.open(location, { cipher });
      const object = (data: Record<string, string>, hash: string) => ({ services: [], deletions: [], author: "t", message: "", configObjects: [{ kind: "Secret" as const, name: "default/db", data, hash }] });
      await store.apply(object({ password: "hunter2" }, "s1"));
      await store.apply(object({ password: "hunter2" }, "s1"));
      await store.apply(object({ password: "swordfish" }, "s2"));
      const raw = await dialect.rawSecret(location, "default/db");
      assert.ok(cipher.isSealed(raw) && !raw.includes("swordfish"), "sealed at rest");
      const secret = (await store.getConfigObject("Secret", "default/db"))!;
      assert.deepEqual([secret.version, secret.data], [2, { password: "swordfish" }]);
      assert.deepEqual(await store.listConfigObjectHashes(), [{ kind: "Secret", name: "default/db", hash: "s2" }]);
      await store.close();
      await assert.rejects(dialect.open(location, { cipher: box() }), "another key cannot open the secrets");
    });

    test("rollouts, per-minute metrics, tokens, nodes and join tokens round-trip", async () => {
      const store = await dialect.open(await dialect.location());
      const rollout = await store.insertRollout({ service: "default/api", fromRevision: 1, toRevision: 2, strategy: "canary", state: "progressing", step: 0, stepStartedAt: null, progressAt: 5, startedAt: 5, finishedAt: null, failedAt: null, reason: "", marks: { start: {}, step: {} } as never, analysis: null, metrics: null });
      await store.updateRollout(rollout.id, { state: "succeeded", finishedAt: 9, step: 3 });
      const [stored] = await store.listRollouts("default/api");
      assert.deepEqual([stored!.id, stored!.state, stored!.finishedAt, stored!.step, stored!.marks], [rollout.id, "succeeded", 9, 3, { start: {}, step: {} }]);
      assert.deepEqual(await store.countRollouts(), { ended: [{ service: "default/api", outcome: "succeeded", count: 1 }], active: [] });
      const point = { service: "default/api", at: 60_000, replicas: 2, cpuCores: 0.25, memoryBytes: 1e8, watts: 3.5, requestsPerSecond: 12.5, errorRate: null, p95Ms: 7.25 };
      await store.appendMetricMinutes([point, { ...point, at: 0 }], 1);
      await store.appendMetricMinutes([{ ...point, watts: 4 }], 1);
      const { service: _service, ...stripped } = point;
      assert.deepEqual(await store.listMetricMinutes("default/api", 0, 120_000), [{ ...stripped, watts: 4 }], "upserted; older rows pruned");
      await store.insertToken({ name: "ci", role: "operator", hash: "t1", createdAt: 1, expiresAt: null, revokedAt: null, lastUsedAt: null });
      await store.updateToken("ci", { lastUsedAt: 7 });
      assert.deepEqual(await store.findTokenByHash("t1"), { name: "ci", role: "operator", hash: "t1", createdAt: 1, expiresAt: null, revokedAt: null, lastUsedAt: 7 });
      const node = { name: "n1", address: "10.0.0.1", labels: { zone: "a" }, credentialHash: "c1", updatedAt: 3 } as never;
      await store.putNode(node);
      await store.putNode({ ...(node as object), labels: { zone: "b" } } as never);
      assert.deepEqual([(await store.findNodeByCredential("c1"))?.labels, (await store.listNodes()).length], [{ zone: "b" }, 1]);
      await store.deleteNode("n1");
      assert.equal(await store.getNode("n1"), undefined);
      await store.insertJoinToken({ hash: "j1", createdAt: 10, expiresAt: 20, createdBy: "admin" });
      await store.insertJoinToken({ hash: "j2", createdAt: 30, expiresAt: 40, createdBy: "admin" });
      assert.deepEqual([await store.findJoinToken("j1"), await store.findJoinToken("j2")], [undefined, { expiresAt: 40 }], "expired tokens go as new ones come");
      await store.close();
    });

    test("events list by service and cursor; two connections apply and audit at once without a gap or a fork", async () => {
      const location = await dialect.location();
      const [a, b] = [await dialect.open(location), await dialect.open(location)];
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).apply(batch(`m${i}`, `h${i}`))));
      assert.deepEqual((await a.listRevisions("default/api")).map((r) => r.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).appendAudit({ actor: "t", role: "admin", action: "apply", object: `o${i}`, summary: "" })));
      const audit = await b.listAudit();
      assert.deepEqual([audit.length, verifyChain(audit, { seq: audit.at(-1)!.seq, hash: audit.at(-1)!.hash }).ok], [20, true]);
      await a.appendEvent({ type: "Other", service: "default/web", replica: null, reason: "x", message: "y" });
      const all = await a.listEvents();
      assert.equal(all.length, 11);
      assert.deepEqual((await a.listEvents({ service: "default/web" })).map((e) => e.type), ["Other"]);
      assert.deepEqual((await a.listEvents({ afterId: all[8]!.id })).map((e) => e.id), [all[9]!.id, all[10]!.id]);
      assert.deepEqual((await a.listEvents({ limit: 2 })).map((e) => e.id), [all[9]!.id, all[10]!.id], "the newest, oldest first");
      await a.close();
      await b.close();
    });

    test("the leader lease: one holder, renewed in its term, a new term after expiry or release", async () => {
      const location = await dialect.location();
      const [a, b] = [await dialect.open(location), await dialect.open(location)];
      assert.equal(await a.readLease(), null);
      const first = await a.claimLease("server-a", 400);
      assert.deepEqual([first.holder, first.term], ["server-a", 1]);
      assert.deepEqual([(await b.claimLease("server-b", 400)).holder, (await a.claimLease("server-a", 400)).term], ["server-a", 1], "held: b gets nothing, a renews in its term");
      const taken = await waitFor("the lease to expire for b", async () => {
        const lease = await b.claimLease("server-b", 60_000);
        return lease.holder === "server-b" ? lease : undefined;
      }, 5_000, 50);
      assert.equal(taken.term, 2);
      assert.equal((await a.claimLease("server-a", 400)).holder, "server-b");
      await b.releaseLease({ holder: "server-a", term: 1 });
      assert.equal((await a.readLease())?.holder, "server-b", "only the holder in its term releases");
      await b.releaseLease({ holder: "server-b", term: 2 });
      assert.deepEqual([(await a.claimLease("server-a", 60_000)).term], [3], "a clean release hands over at once");
      await a.close();
      await b.close();
    });

    test("a fenced write changes nothing unless its term holds the lease; the fenced store refuses every write when not leading", async () => {
      const location = await dialect.location();
      const [a, b] = [await dialect.open(location), await dialect.open(location)];
      await a.apply(batch("a", "h1"));
      const old = await a.claimLease("server-a", 60_000);
      await a.fenced(old, () => a.updateService("default/api", { replicas: 2 }));
      assert.equal((await b.getService("default/api"))?.replicas, 2);
      await a.releaseLease(old);
      await b.claimLease("server-b", 60_000);
      await assert.rejects(a.fenced(old, () => a.updateService("default/api", { replicas: 5 })), StaleLeaderError);
      // A multi-row write under a stale term: none of it lands.
      await assert.rejects(a.fenced(old, () => a.apply(batch("c", "h3"))), StaleLeaderError);
      assert.deepEqual([(await b.getService("default/api"))?.replicas, (await b.listRevisions("default/api")).length], [2, 1]);
      let fence: { holder: string; term: number } | null = old;
      const controllers = fencedStore(a, () => fence);
      await assert.rejects(controllers.insertReplica(replica("r1")), StaleLeaderError);
      fence = null;
      await assert.rejects(controllers.appendEvent({ type: "X", service: null, replica: null, reason: "", message: "" }), StaleLeaderError);
      assert.equal((await controllers.listReplicas()).length, 0, "reads pass");
      fence = (await b.readLease())!;
      await controllers.insertReplica(replica("r1"));
      assert.equal((await b.listReplicas()).length, 1, "a live fence writes");
      await a.close();
      await b.close();
    });

    test("dump and load: everything moves to an empty store in one piece; a bad dump loads nothing", async () => {
      const source = await dialect.open(await dialect.location(), { cipher: box() });
      await source.apply(batch("a", "h1"));
      await source.apply(batch("b", "h2"));
      await source.insertReplica(replica("api-1"));
      await source.appendAudit({ actor: "t", role: "admin", action: "apply", object: "o", summary: "" });
      await source.ensureSetting("cluster.ca", () => "pem");
      const dump = await source.dump();
      // Into the other dialect as well: `drover store migrate` is this.
      for (const target of [sqlite, postgresDialect]) {
        const into = await target.open(await target.location());
        await into.load(dump);
        assert.deepEqual((await into.listRevisions("default/api")).map((r) => r.hash), ["h1", "h2"]);
        assert.deepEqual(await into.getReplica("api-1"), replica("api-1"));
        assert.deepEqual(await into.listAudit(), await source.listAudit());
        assert.deepEqual(await into.listEvents(), await source.listEvents());
        assert.equal(await into.ensureSetting("cluster.ca", () => "other"), "pem");
        const next = await into.appendEvent({ type: "After", service: null, replica: null, reason: "", message: "" });
        assert.ok(next.id > (await source.listEvents()).at(-1)!.id, "ids go on after the loaded ones");
        await assert.rejects(into.load(dump), /has services already/);
        await into.close();
      }
      const broken = { ...dump, tables: { ...dump.tables, audit: [{ ...dump.tables.audit![0], nonsense: 1 }] } };
      const empty = await dialect.open(await dialect.location());
      await assert.rejects(empty.load(broken), /column "nonsense"/);
      assert.deepEqual(await empty.listServices(), [], "nothing half-loaded");
      await empty.close();
      await source.close();
    });

    test("node pools: applied with the descriptors, sized apart from them; instances keep every state change as a transition, once", async () => {
      const location = await dialect.location();
      let now = 1000;
      const store = await dialect.open(location, { now: () => now });
      const text = "apiVersion: drover/v1\nkind: NodePool\nmetadata: {name: workers}\nspec: {provider: local, min: 1, max: 3, machine: small}\n";
      const document = loadDescriptors([{ file: "p.yaml", text, baseDir: "/" }]).pools[0]!;
      const applied = await store.apply({ services: [], configObjects: [], deletions: [], pools: [{ name: "workers", document, hash: "p1" }], author: "t", message: "" });
      assert.deepEqual(applied.events.map((e) => [e.type, e.message]), [["NodePoolApplied", "node pool workers version 1"]]);
      await store.updatePool("workers", { desired: 2, problem: "machine type unknown" });
      assert.equal((await store.apply({ services: [], configObjects: [], deletions: [], pools: [{ name: "workers", document, hash: "p1" }], author: "t", message: "" })).events.length, 0, "unchanged");
      await store.apply({ services: [], configObjects: [], deletions: [], pools: [{ name: "workers", document: { ...document, spec: { ...document.spec, max: 4 } }, hash: "p2" }], author: "t", message: "" });
      const pool = (await store.getPool("workers"))!;
      assert.deepEqual([pool.version, pool.desired, pool.problem, pool.deleting, pool.document.spec.max], [2, 2, null, false, 4], "a change keeps the size and clears the problem");
      await store.updatePool("workers", { deleting: true });
      assert.equal((await store.getPool("workers"))!.deleting, true);
      await store.apply({ services: [], configObjects: [], deletions: [], pools: [{ name: "workers", document: { ...document, spec: { ...document.spec, max: 4 } }, hash: "p2" }], author: "t", message: "" });
      assert.equal((await store.getPool("workers"))!.deleting, false, "applying it again keeps it");

      const machine = { name: "small", cpu: 1000, memory: 1024 ** 3, gpus: 0, hourly_cost: 0.01, watts: 10 };
      const instance = { id: "workers-0a1b2c", pool: "workers", machine, state: "provisioning" as const, stateReason: "below min", stateSince: 1000, providerId: null, address: null, createdAt: 1000, updatedAt: 1000 };
      await store.putInstance(instance);
      now = 2000;
      await store.putInstance({ ...instance, state: "booting", stateReason: "created", stateSince: 2000, providerId: "ns-1", updatedAt: 2000 });
      await store.putInstance({ ...instance, state: "booting", stateReason: "created", stateSince: 2000, providerId: "ns-1", address: "10.0.0.5", updatedAt: 2100 });
      assert.deepEqual(await store.getInstance("workers-0a1b2c"), { ...instance, state: "booting", stateReason: "created", stateSince: 2000, providerId: "ns-1", address: "10.0.0.5", updatedAt: 2100 });
      assert.deepEqual((await store.listTransitions("workers")).map((t) => [t.from, t.to, t.at, t.reason]), [[null, "provisioning", 1000, "below min"], ["provisioning", "booting", 2000, "created"]], "the same state twice is one transition");
      assert.deepEqual((await store.listInstances("workers")).map((i) => i.id), ["workers-0a1b2c"]);
      assert.deepEqual(await store.listInstances("other"), []);
      const dump = await store.dump();
      assert.equal(dump.tables.pool_transitions!.length, 2, "pools are dumped");
      await store.deletePool("workers");
      assert.deepEqual([await store.getPool("workers"), await store.listInstances(), await store.listTransitions("workers")], [undefined, [], []]);
      await store.close();
    });

    test("jobs: applied with a version per change; runs numbered once each, newest first, replaced whole; removal takes the runs", async () => {
      const store = await dialect.open(await dialect.location());
      const text = "apiVersion: drover/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: ops}\nspec:\n  schedule: '0 3 * * *'\n  job: {command: [sh, -c, 'true']}\n";
      const descriptor = loadDescriptors([{ file: "j.yaml", text, baseDir: "/" }]).jobs[0]!;
      const apply = (hash: string) => store.apply({ services: [], configObjects: [], deletions: [], jobs: [{ name: "ops/nightly", descriptor, hash }], author: "t", message: "" });
      assert.deepEqual((await apply("j1")).events.map((e) => [e.type, e.service, e.message]), [["JobApplied", "ops/nightly", "CronJob ops/nightly version 1"]]);
      assert.equal((await apply("j1")).events.length, 0, "unchanged");
      await apply("j2");
      const job = (await store.getJob("ops/nightly"))!;
      assert.deepEqual([job.kind, job.namespace, job.version, job.deleting, job.status, job.descriptor.spec.cron?.schedule], ["CronJob", "ops", 2, false, EMPTY_JOB_STATUS, "0 3 * * *"]);
      await store.updateJob("ops/nightly", { status: { ...EMPTY_JOB_STATUS, skipped: 2, nextRun: 3 }, deleting: true });
      assert.deepEqual([(await store.getJob("ops/nightly"))!.status.skipped, (await store.listJobs())[0]!.deleting], [2, true]);
      await apply("j2");
      assert.equal((await store.getJob("ops/nightly"))!.deleting, false, "applying it again keeps it");

      const run = { job: "ops/nightly", number: 1, version: 2, trigger: "schedule" as const, scheduledAt: 1000, createdAt: 1000, startedAt: null, finishedAt: null, state: "pending" as const, reason: "", succeeded: 0, failed: 0, covers: 0, nextAttemptAt: null, attempts: [] };
      assert.equal(await store.insertRun(run), true);
      assert.equal(await store.insertRun({ ...run, trigger: "manual" }), false, "a number is given once");
      assert.equal(await store.insertRun({ ...run, number: 2 }), true);
      const attempt = { id: "job.ops.nightly.1-1", node: "local", startedAt: 1100, finishedAt: 1200, state: "succeeded" as const, exit: { code: 0, signal: null }, message: "exited 0", log: ["done"] };
      await store.putRun({ ...run, state: "succeeded", startedAt: 1100, finishedAt: 1200, succeeded: 1, attempts: [attempt] });
      assert.deepEqual(await store.getRun("ops/nightly", 1), { ...run, state: "succeeded", startedAt: 1100, finishedAt: 1200, succeeded: 1, attempts: [attempt] });
      assert.deepEqual((await store.listRuns("ops/nightly")).map((r) => r.number), [2, 1]);
      assert.deepEqual((await store.listRuns("ops/nightly", 1)).map((r) => r.number), [2]);
      assert.equal((await store.dump()).tables.job_runs!.length, 2, "runs are dumped");
      await store.deleteRun("ops/nightly", 2);
      assert.deepEqual((await store.listRuns("ops/nightly")).map((r) => r.number), [1]);
      await store.deleteJob("ops/nightly");
      assert.deepEqual([await store.getJob("ops/nightly"), await store.listRuns("ops/nightly")], [undefined, []]);
      await store.close();
    });

    test("volumes: the first node to claim one keeps it; listed by service; removed alone", async () => {
      const store = await dialect.open(await dialect.location());
      const volume = { key: "shop/db/data-0", service: "shop/db", name: "data", ordinal: 0, node: "n1", size: 1024, createdAt: 5 };
      assert.deepEqual(await store.claimVolume(volume), volume);
      assert.deepEqual(await store.claimVolume({ ...volume, node: "n2", createdAt: 9 }), volume, "claimed already: stays on n1");
      await store.claimVolume({ ...volume, key: "shop/web/cache", service: "shop/web", name: "cache", ordinal: null, size: null });
      assert.deepEqual((await store.listVolumes("shop/db")).map((v) => v.key), ["shop/db/data-0"]);
      assert.deepEqual((await store.listVolumes()).map((v) => [v.key, v.ordinal, v.size]), [["shop/db/data-0", 0, 1024], ["shop/web/cache", null, null]]);
      assert.equal((await store.dump()).tables.volumes!.length, 2, "volumes are dumped");
      await store.deleteVolume("shop/db/data-0");
      assert.equal(await store.getVolume("shop/db/data-0"), undefined);
      await store.close();
    });

    test("settings: the first writer wins, sealed when asked; a newer schema is refused with both versions", async () => {
      const location = await dialect.location();
      const cipher = box();
      const store = await dialect.open(location, { cipher });
      assert.equal(await store.ensureSetting("cluster.ca-key", () => "secret-key", { sealed: true }), "secret-key");
      assert.equal(await store.ensureSetting("cluster.ca-key", () => "another", { sealed: true }), "secret-key");
      assert.ok(!JSON.stringify((await store.dump()).tables.settings).includes("secret-key"), "sealed at rest");
      await store.putServer({ id: "s1", url: "http://a", clusterUrl: null, version: "1", startedAt: 1, seenAt: 2 });
      await store.putServer({ id: "s1", url: "http://a", clusterUrl: "10.0.0.1:7947", version: "1", startedAt: 1, seenAt: 3 });
      assert.deepEqual(await store.listServers(), [{ id: "s1", url: "http://a", clusterUrl: "10.0.0.1:7947", version: "1", startedAt: 1, seenAt: 3 }]);
      assert.equal((await store.probe()).writable, true);
      await store.close();
      await dialect.bumpSchema(location);
      await assert.rejects(dialect.open(location), /newer drover \(schema 999, this one knows \d+\)/);
    });
  });
}
