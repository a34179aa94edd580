/** {@link Store} on one SQLite file through better-sqlite3, in WAL mode. */
import Database from "better-sqlite3";
import type { AppliedService, AuditInput, AuditRecord, ConfigObjectRecord, EventInput, EventRecord, InstanceRecord, InstanceTransition, JobRecord, JobRun, JobStatus, MetricPoint, NodeRecord, VolumeRecord, PoolRecord, ReplicaRecord, RevisionRecord, RolloutRecord, ServiceRecord, TokenRecord } from "../../contract/index.js";
import { auditHash, GENESIS } from "../../security/audit-chain.js";
import { StaleLeaderError, type ApplyBatch, type EventQuery, type LeaderFence, type Lease, type ServerRecord, type Store, type StoreDump, type ValueCipher } from "../store.js";
import { checkColumns, DUMPED_TABLES } from "../dump.js";
import { Sealing } from "../sealing.js";
import { LocalChangeFeed } from "../local-change-feed.js";
import { MIGRATIONS } from "./migrations.js";
import { SqliteJobTables } from "./job-tables.js";
import { SqlitePoolTables } from "./pool-tables.js";
import type { PolicyDocument } from "../../spec/index.js";

import { toAudit, toEvent, toMetricPoint, toReplica, toRevision, toRollout, toService, toToken, toVolume, patchColumns, type Row } from "../rows.js";

/** Events beyond this many are pruned, oldest first, so the database does not grow forever. */
const EVENTS_KEPT = 20_000;

export class SqliteStore implements Store {
  readonly description: Store["description"];
  readonly changes = new LocalChangeFeed();
  private readonly db: Database.Database;
  private readonly sealing: Sealing;
  private eventsSincePrune = 0;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly pools: SqlitePoolTables;
  private readonly jobs: SqliteJobTables;

  /** `cipher`: secrets' data is sealed with it; without one they are stored as given (tests of other things). */
  constructor(
    file: string,
    private readonly now: () => number = Date.now,
    cipher: ValueCipher | null = null,
  ) {
    this.sealing = new Sealing(cipher);
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
    this.pools = new SqlitePoolTables(this.db, (sql) => this.statement(sql));
    this.jobs = new SqliteJobTables(this.db, (sql) => this.statement(sql));
    this.sealStoredSecrets();
    this.description = { dialect: "sqlite", location: file, schema: MIGRATIONS.length };
  }

  /** Secrets stored before encryption at rest (or by a store without a cipher) are sealed now; a wrong key fails here, at start. */
  private sealStoredSecrets(): void {
    this.db.transaction(() => {
      for (const row of this.statement("SELECT name, data FROM config_objects WHERE kind = 'Secret'").all() as Row[]) {
        const sealed = this.sealing.sealedIfPlain(String(row.name), String(row.data));
        if (sealed !== null) this.statement("UPDATE config_objects SET data = ? WHERE kind = 'Secret' AND name = ?").run(sealed, row.name);
      }
    })();
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`the database was written by a newer drover (schema ${version}, this one knows ${MIGRATIONS.length})`);
    }
    this.db.transaction(() => {
      for (let v = version; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]!);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    })();
  }

  async apply(batch: ApplyBatch): Promise<{ services: AppliedService[]; events: EventRecord[] }> {
    return this.db.transaction(() => {
      const now = this.now();
      const events: EventRecord[] = [];
      const services: AppliedService[] = [];
      for (const object of batch.configObjects) {
        const existing = this.statement("SELECT version, hash FROM config_objects WHERE kind = ? AND name = ?").get(object.kind, object.name) as Row | undefined;
        if (existing?.hash === object.hash) continue;
        const version = existing ? Number(existing.version) + 1 : 1;
        this.db
          .prepare("INSERT OR REPLACE INTO config_objects (kind, name, version, data, hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
          .run(object.kind, object.name, version, this.sealing.storedData(object.kind, object.name, object.data), object.hash, now);
        events.push(this.insertEvent({ type: `${object.kind}Applied`, service: null, replica: null, reason: existing ? "Changed" : "Created", message: `${object.kind} ${object.name} version ${version}` }));
      }
      for (const policy of batch.policies ?? []) {
        const existing = this.statement("SELECT version, hash FROM policies WHERE name = ?").get(policy.name) as Row | undefined;
        if (existing?.hash === policy.hash) continue;
        const version = existing ? Number(existing.version) + 1 : 1;
        this.statement("INSERT OR REPLACE INTO policies (name, document, version, hash, updated_at) VALUES (?, ?, ?, ?, ?)").run(policy.name, JSON.stringify(policy.document), version, policy.hash, now);
        events.push(this.insertEvent({ type: "PolicyApplied", service: null, replica: null, reason: existing ? "Changed" : "Created", message: `policy ${policy.name} version ${version}` }));
      }
      for (const pool of batch.pools ?? []) {
        const event = this.pools.apply(pool, now);
        if (event) events.push(this.insertEvent(event));
      }
      for (const job of batch.jobs ?? []) {
        const event = this.jobs.apply(job, now);
        if (event) events.push(this.insertEvent(event));
      }
      for (const change of batch.services) {
        const current = this.statement("SELECT * FROM services WHERE name = ?").get(change.name) as Row | undefined;
        const currentRevision = current
          ? (this.statement("SELECT hash FROM revisions WHERE service = ? AND number = ?").get(change.name, current.revision) as Row | undefined)
          : undefined;
        if (current && currentRevision?.hash === change.hash && !current.deleting) {
          this.statement("UPDATE services SET replicas = ?, enabled = 1, updated_at = ? WHERE name = ?").run(change.replicas, now, change.name);
          services.push({ name: change.name, revision: Number(current.revision), outcome: "unchanged" });
          continue;
        }
        const last = this.statement("SELECT MAX(number) AS n FROM revisions WHERE service = ?").get(change.name) as Row;
        const number = Number(last.n ?? 0) + 1;
        this.db
          .prepare("INSERT INTO revisions (service, number, descriptor, hash, author, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
          .run(change.name, number, JSON.stringify(change.descriptor), change.hash, batch.author, batch.message, now);
        if (current) {
          this.statement("UPDATE services SET revision = ?, replicas = ?, enabled = 1, deleting = 0, updated_at = ? WHERE name = ?").run(number, change.replicas, now, change.name);
        } else {
          this.db
            .prepare("INSERT INTO services (name, namespace, revision, replicas, enabled, deleting, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 0, ?, ?)")
            .run(change.name, change.descriptor.metadata.namespace, number, change.replicas, now, now);
        }
        const outcome = current ? "changed" : "created";
        services.push({ name: change.name, revision: number, outcome });
        events.push(this.insertEvent({ type: "RevisionCreated", service: change.name, replica: null, reason: outcome === "created" ? "Created" : "SpecChanged", message: `revision ${number} by ${batch.author}${batch.message ? `: ${batch.message}` : ""}` }));
      }
      for (const name of batch.deletions) {
        this.statement("UPDATE services SET deleting = 1, updated_at = ? WHERE name = ?").run(now, name);
        events.push(this.insertEvent({ type: "ServiceDeleting", service: name, replica: null, reason: "Pruned", message: `not in the applied files (--prune)` }));
      }
      return { services, events };
    })();
  }

  async getService(name: string): Promise<ServiceRecord | undefined> {
    const row = this.statement("SELECT * FROM services WHERE name = ?").get(name) as Row | undefined;
    return row && toService(row);
  }

  async listServices(): Promise<ServiceRecord[]> {
    return (this.statement("SELECT * FROM services ORDER BY name").all() as Row[]).map(toService);
  }

  async updateService(name: string, patch: Partial<Pick<ServiceRecord, "replicas" | "enabled" | "deleting" | "revision">>): Promise<void> {
    const columns: Record<string, unknown> = {};
    if (patch.replicas !== undefined) columns.replicas = patch.replicas;
    if (patch.revision !== undefined) columns.revision = patch.revision;
    if (patch.enabled !== undefined) columns.enabled = patch.enabled ? 1 : 0;
    if (patch.deleting !== undefined) columns.deleting = patch.deleting ? 1 : 0;
    this.update("services", "name", name, columns);
  }

  async removeService(name: string): Promise<void> {
    this.db.transaction(() => {
      this.statement("DELETE FROM replicas WHERE service = ?").run(name);
      this.statement("DELETE FROM revisions WHERE service = ?").run(name);
      this.statement("DELETE FROM rollouts WHERE service = ?").run(name);
      this.statement("DELETE FROM metric_minutes WHERE service = ?").run(name);
      this.statement("DELETE FROM services WHERE name = ?").run(name);
    })();
  }

  async getRevision(service: string, number: number): Promise<RevisionRecord | undefined> {
    const row = this.statement("SELECT * FROM revisions WHERE service = ? AND number = ?").get(service, number) as Row | undefined;
    return row && toRevision(row);
  }

  async listRevisions(service: string): Promise<RevisionRecord[]> {
    return (this.statement("SELECT * FROM revisions WHERE service = ? ORDER BY number").all(service) as Row[]).map(toRevision);
  }

  async listReplicas(service?: string): Promise<ReplicaRecord[]> {
    const rows = service
      ? this.statement("SELECT * FROM replicas WHERE service = ? ORDER BY created_at, id").all(service)
      : this.statement("SELECT * FROM replicas ORDER BY service, created_at, id").all();
    return (rows as Row[]).map(toReplica);
  }

  async getReplica(id: string): Promise<ReplicaRecord | undefined> {
    const row = this.statement("SELECT * FROM replicas WHERE id = ?").get(id) as Row | undefined;
    return row && toReplica(row);
  }

  async insertReplica(r: ReplicaRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO replicas (id, service, revision, node, state, ports, pid, restarts, consecutive_failures, last_exit, reason, started_at, ready_at, next_start_at, healing, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.id, r.service, r.revision, r.node, r.state, JSON.stringify(r.ports), r.pid, r.restarts, r.consecutiveFailures, r.lastExit && JSON.stringify(r.lastExit), r.reason, r.startedAt, r.readyAt, r.nextStartAt, JSON.stringify(r.healing), r.createdAt, r.updatedAt);
  }

  async updateReplica(id: string, patch: Partial<Omit<ReplicaRecord, "id" | "service" | "createdAt">>): Promise<void> {
    this.update("replicas", "id", id, patchColumns(patch, ["ports", "lastExit", "healing"]));
  }

  async deleteReplica(id: string): Promise<void> {
    this.statement("DELETE FROM replicas WHERE id = ?").run(id);
  }

  async appendMetricMinutes(rows: Array<MetricPoint & { service: string }>, pruneBefore: number): Promise<void> {
    this.db.transaction(() => {
      const insert = this.statement("INSERT OR REPLACE INTO metric_minutes (service, at, replicas, cpu_cores, memory_bytes, watts, requests_per_second, error_rate, p95_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (const r of rows) insert.run(r.service, r.at, r.replicas, r.cpuCores, r.memoryBytes, r.watts, r.requestsPerSecond, r.errorRate, r.p95Ms);
      this.statement("DELETE FROM metric_minutes WHERE at < ?").run(pruneBefore);
    })();
  }

  async listMetricMinutes(service: string, since: number, until: number): Promise<MetricPoint[]> {
    const rows = this.statement("SELECT * FROM metric_minutes WHERE service = ? AND at >= ? AND at <= ? ORDER BY at").all(service, since, until) as Row[];
    return rows.map(toMetricPoint);
  }

  async probe(): Promise<{ writable: boolean; latencyMs: number; error?: string }> {
    const started = performance.now();
    try {
      // BEGIN IMMEDIATE takes the write lock: it fails when the file cannot be written or is locked.
      this.db.exec("BEGIN IMMEDIATE; ROLLBACK;");
      return { writable: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
    } catch (error) {
      return { writable: false, latencyMs: Math.round((performance.now() - started) * 100) / 100, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async listRollouts(service: string, limit = 20): Promise<RolloutRecord[]> {
    return (this.statement("SELECT * FROM rollouts WHERE service = ? ORDER BY id DESC LIMIT ?").all(service, limit) as Row[]).map(toRollout);
  }

  async countRollouts(): Promise<{ ended: Array<{ service: string; outcome: string; count: number }>; active: string[] }> {
    const ended = this.statement("SELECT service, state, COUNT(*) AS count FROM rollouts WHERE finished_at IS NOT NULL GROUP BY service, state").all() as Row[];
    const active = this.statement("SELECT DISTINCT service FROM rollouts WHERE finished_at IS NULL").all() as Row[];
    return { ended: ended.map((r) => ({ service: String(r.service), outcome: String(r.state), count: Number(r.count) })), active: active.map((r) => String(r.service)) };
  }

  async insertRollout(r: Omit<RolloutRecord, "id">): Promise<RolloutRecord> {
    const result = this.statement(
      `INSERT INTO rollouts (service, from_revision, to_revision, strategy, state, step, step_started_at, progress_at, started_at, finished_at, failed_at, reason, marks, analysis, metrics, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(r.service, r.fromRevision, r.toRevision, r.strategy, r.state, r.step, r.stepStartedAt, r.progressAt, r.startedAt, r.finishedAt, r.failedAt, r.reason, JSON.stringify(r.marks), r.analysis && JSON.stringify(r.analysis), r.metrics && JSON.stringify(r.metrics), this.now());
    return { ...r, id: Number(result.lastInsertRowid) };
  }

  async updateRollout(id: number, patch: Partial<Omit<RolloutRecord, "id" | "service">>): Promise<void> {
    this.update("rollouts", "id", String(id), patchColumns(patch, ["marks", "analysis", "metrics"]));
  }

  async getConfigObject(kind: ConfigObjectRecord["kind"], name: string): Promise<ConfigObjectRecord | undefined> {
    const row = this.statement("SELECT * FROM config_objects WHERE kind = ? AND name = ?").get(kind, name) as Row | undefined;
    return row && this.sealing.configObject(row);
  }

  async listPolicies(): Promise<Array<{ name: string; document: PolicyDocument; hash: string; version: number }>> {
    return (this.statement("SELECT * FROM policies ORDER BY name").all() as Row[]).map((r) => ({ name: String(r.name), document: JSON.parse(String(r.document)) as PolicyDocument, hash: String(r.hash), version: Number(r.version) }));
  }

  async deleteConfigObject(kind: ConfigObjectRecord["kind"], name: string): Promise<void> {
    this.statement("DELETE FROM config_objects WHERE kind = ? AND name = ?").run(kind, name);
  }

  async listConfigObjectHashes(): Promise<Array<Pick<ConfigObjectRecord, "kind" | "name" | "hash">>> {
    return (this.statement("SELECT kind, name, hash FROM config_objects ORDER BY kind, name").all() as Row[]).map((r) => ({ kind: r.kind as ConfigObjectRecord["kind"], name: String(r.name), hash: String(r.hash) }));
  }

  async listConfigObjects(kind?: ConfigObjectRecord["kind"]): Promise<ConfigObjectRecord[]> {
    const rows = kind
      ? this.statement("SELECT * FROM config_objects WHERE kind = ? ORDER BY name").all(kind)
      : this.statement("SELECT * FROM config_objects ORDER BY kind, name").all();
    return (rows as Row[]).map((row) => this.sealing.configObject(row));
  }

  async insertToken(token: TokenRecord): Promise<void> {
    this.statement("INSERT INTO tokens (name, role, hash, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(token.name, token.role, token.hash, token.createdAt, token.expiresAt, token.revokedAt, token.lastUsedAt);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.statement("SELECT * FROM tokens ORDER BY created_at, name").all() as Row[]).map(toToken);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const row = this.statement("SELECT * FROM tokens WHERE hash = ?").get(hash) as Row | undefined;
    return row && toToken(row);
  }

  async updateToken(name: string, patch: Partial<Pick<TokenRecord, "revokedAt" | "lastUsedAt">>): Promise<void> {
    if (patch.revokedAt !== undefined) this.statement("UPDATE tokens SET revoked_at = ? WHERE name = ?").run(patch.revokedAt, name);
    if (patch.lastUsedAt !== undefined) this.statement("UPDATE tokens SET last_used_at = ? WHERE name = ?").run(patch.lastUsedAt, name);
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (this.statement("SELECT document FROM nodes ORDER BY name").all() as Row[]).map((row) => JSON.parse(String(row.document)) as NodeRecord);
  }

  async getNode(name: string): Promise<NodeRecord | undefined> {
    const row = this.statement("SELECT document FROM nodes WHERE name = ?").get(name) as Row | undefined;
    return row && (JSON.parse(String(row.document)) as NodeRecord);
  }

  async findNodeByCredential(hash: string): Promise<NodeRecord | undefined> {
    const row = this.statement("SELECT document FROM nodes WHERE credential_hash = ?").get(hash) as Row | undefined;
    return row && (JSON.parse(String(row.document)) as NodeRecord);
  }

  async putNode(node: NodeRecord): Promise<void> {
    this.statement("INSERT OR REPLACE INTO nodes (name, document, credential_hash, updated_at) VALUES (?, ?, ?, ?)").run(node.name, JSON.stringify(node), node.credentialHash, node.updatedAt);
  }

  async deleteNode(name: string): Promise<void> {
    this.statement("DELETE FROM nodes WHERE name = ?").run(name);
  }

  async insertJoinToken(token: { hash: string; createdAt: number; expiresAt: number; createdBy: string }): Promise<void> {
    this.db.transaction(() => {
      this.statement("DELETE FROM join_tokens WHERE expires_at < ?").run(token.createdAt);
      this.statement("INSERT INTO join_tokens (hash, created_at, expires_at, created_by) VALUES (?, ?, ?, ?)").run(token.hash, token.createdAt, token.expiresAt, token.createdBy);
    })();
  }

  async findJoinToken(hash: string): Promise<{ expiresAt: number } | undefined> {
    const row = this.statement("SELECT expires_at FROM join_tokens WHERE hash = ?").get(hash) as Row | undefined;
    return row && { expiresAt: Number(row.expires_at) };
  }

  async appendAudit(entry: AuditInput): Promise<AuditRecord> {
    return this.db.transaction(() => {
      const last = this.statement("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").get() as Row | undefined;
      const record = { seq: last ? Number(last.seq) + 1 : 1, time: this.now(), ...entry, prevHash: last ? String(last.hash) : GENESIS };
      const hash = auditHash(record);
      this.statement("INSERT INTO audit (seq, time, actor, role, action, object, summary, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").run(record.seq, record.time, record.actor, record.role, record.action, record.object, record.summary, record.prevHash, hash);
      return { ...record, hash };
    })();
  }

  async listAudit(since = 0): Promise<AuditRecord[]> {
    return (this.statement("SELECT * FROM audit WHERE time >= ? ORDER BY seq").all(since) as Row[]).map(toAudit);
  }

  async appendEvent(event: EventInput): Promise<EventRecord> {
    return this.insertEvent(event);
  }

  async listEvents(query: EventQuery = {}): Promise<EventRecord[]> {
    const limit = query.limit ?? 1000;
    const rows = query.service
      ? this.statement("SELECT * FROM (SELECT * FROM events WHERE id > ? AND service = ? ORDER BY id DESC LIMIT ?) ORDER BY id").all(query.afterId ?? 0, query.service, limit)
      : this.statement("SELECT * FROM (SELECT * FROM events WHERE id > ? ORDER BY id DESC LIMIT ?) ORDER BY id").all(query.afterId ?? 0, limit);
    return (rows as Row[]).map(toEvent);
  }

  async claimLease(holder: string, ttlMs: number): Promise<Lease> {
    const now = this.now();
    // The same holder keeps its term while the lease is live; anyone taking a free or expired lease starts the next one.
    this.statement(
      `UPDATE leader_lease SET term = CASE WHEN holder = @holder AND expires_at > @now THEN term ELSE term + 1 END,
         since = CASE WHEN holder = @holder AND expires_at > @now THEN since ELSE @now END,
         holder = @holder, expires_at = @expires
       WHERE id = 1 AND (holder = @holder OR holder = '' OR expires_at <= @now)`,
    ).run({ holder, now, expires: now + ttlMs });
    return (await this.readLease())!;
  }

  async releaseLease(fence: LeaderFence): Promise<void> {
    this.statement("UPDATE leader_lease SET holder = '', expires_at = 0 WHERE id = 1 AND holder = ? AND term = ?").run(fence.holder, fence.term);
  }

  async readLease(): Promise<Lease | null> {
    const row = this.statement("SELECT * FROM leader_lease WHERE id = 1").get() as Row;
    return row.holder === "" ? null : { holder: String(row.holder), term: Number(row.term), expiresAt: Number(row.expires_at), since: Number(row.since) };
  }

  async fenced<T>(fence: LeaderFence, write: () => Promise<T>): Promise<T> {
    // The write lock is taken first: no other connection can take the lease between the check and the commit.
    // The store's methods run synchronously, so the whole write happens inside this transaction.
    this.db.exec("BEGIN IMMEDIATE");
    let result: Promise<T>;
    try {
      const live = this.statement("SELECT 1 FROM leader_lease WHERE id = 1 AND holder = ? AND term = ? AND expires_at > ?").get(fence.holder, fence.term, this.now());
      if (!live) throw new StaleLeaderError(fence);
      result = write();
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
    return result;
  }

  async putServer(server: ServerRecord): Promise<void> {
    this.statement("INSERT OR REPLACE INTO servers (id, url, cluster_url, version, started_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)").run(server.id, server.url, server.clusterUrl, server.version, server.startedAt, server.seenAt);
  }

  async listServers(): Promise<ServerRecord[]> {
    return (this.statement("SELECT * FROM servers ORDER BY started_at, id").all() as Row[]).map((r) => ({ id: String(r.id), url: String(r.url), clusterUrl: r.cluster_url === null ? null : String(r.cluster_url), version: String(r.version), startedAt: Number(r.started_at), seenAt: Number(r.seen_at) }));
  }

  async deleteServer(id: string): Promise<void> {
    this.statement("DELETE FROM servers WHERE id = ?").run(id);
  }

  async ensureSetting(key: string, make: () => string | Promise<string>, options: { sealed?: boolean } = {}): Promise<string> {
    const stored = () => this.statement("SELECT value FROM settings WHERE key = ?").get(key) as Row | undefined;
    const open = (text: string) => this.sealing.openSetting(key, text, options.sealed ?? false);
    const existing = stored();
    if (existing) return open(String(existing.value));
    const value = await make();
    const text = this.sealing.settingText(key, value, options.sealed ?? false);
    this.statement("INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)").run(key, text, this.now());
    return open(String(stored()!.value));
  }

  async listPools(): Promise<PoolRecord[]> {
    return this.pools.list();
  }

  async getPool(name: string): Promise<PoolRecord | undefined> {
    return this.pools.get(name);
  }

  async updatePool(name: string, patch: Partial<Pick<PoolRecord, "desired" | "problem" | "deleting">>): Promise<void> {
    this.pools.update(name, patch, this.now());
  }

  async deletePool(name: string): Promise<void> {
    this.pools.delete(name);
  }

  async listInstances(pool?: string): Promise<InstanceRecord[]> {
    return this.pools.listInstances(pool);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.pools.getInstance(id);
  }

  async putInstance(instance: InstanceRecord): Promise<void> {
    this.pools.putInstance(instance);
  }

  async listTransitions(pool: string): Promise<InstanceTransition[]> {
    return this.pools.listTransitions(pool);
  }

  async listJobs(): Promise<JobRecord[]> {
    return this.jobs.list();
  }

  async getJob(name: string): Promise<JobRecord | undefined> {
    return this.jobs.get(name);
  }

  async updateJob(name: string, patch: { status?: JobStatus; deleting?: boolean }): Promise<void> {
    this.jobs.update(name, patch);
  }

  async deleteJob(name: string): Promise<void> {
    this.jobs.delete(name);
  }

  async listRuns(job: string, limit?: number): Promise<JobRun[]> {
    return this.jobs.listRuns(job, limit);
  }

  async getRun(job: string, number: number): Promise<JobRun | undefined> {
    return this.jobs.getRun(job, number);
  }

  async listVolumes(service?: string): Promise<VolumeRecord[]> {
    const rows = service === undefined ? this.statement("SELECT * FROM volumes ORDER BY key").all() : this.statement("SELECT * FROM volumes WHERE service = ? ORDER BY key").all(service);
    return (rows as Row[]).map(toVolume);
  }

  async getVolume(key: string): Promise<VolumeRecord | undefined> {
    const row = this.statement("SELECT * FROM volumes WHERE key = ?").get(key) as Row | undefined;
    return row && toVolume(row);
  }

  async claimVolume(v: VolumeRecord): Promise<VolumeRecord> {
    this.statement("INSERT OR IGNORE INTO volumes (key, service, name, ordinal, node, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(v.key, v.service, v.name, v.ordinal, v.node, v.size, v.createdAt);
    return (await this.getVolume(v.key))!;
  }

  async deleteVolume(key: string): Promise<void> {
    this.statement("DELETE FROM volumes WHERE key = ?").run(key);
  }

  async insertRun(run: JobRun): Promise<boolean> {
    return this.jobs.insertRun(run);
  }

  async putRun(run: JobRun): Promise<void> {
    this.jobs.putRun(run);
  }

  async deleteRun(job: string, number: number): Promise<void> {
    this.jobs.deleteRun(job, number);
  }

  async dump(): Promise<StoreDump> {
    const tables: StoreDump["tables"] = {};
    for (const table of DUMPED_TABLES) tables[table] = this.db.prepare(`SELECT * FROM ${table}`).all() as Row[];
    return { format: "drover-store-v1", schema: { dialect: "sqlite", version: MIGRATIONS.length }, tables };
  }

  async load(dump: StoreDump, options: { replace?: boolean } = {}): Promise<void> {
    this.db.transaction(() => {
      if (!options.replace && (this.statement("SELECT COUNT(*) AS n FROM services").get() as Row).n !== 0) throw new Error("the store has services already: load into an empty store, or replace what it has");
      for (const table of [...DUMPED_TABLES].reverse()) if (options.replace) this.db.exec(`DELETE FROM ${table}`);
      for (const table of DUMPED_TABLES) {
        const known = new Set((this.db.prepare(`PRAGMA table_info(${table})`).all() as Row[]).map((c) => String(c.name)));
        for (const row of dump.tables[table] ?? []) {
          const columns = checkColumns(table, row, known);
          this.db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`).run(...columns.map((c) => row[c]));
        }
      }
    })();
  }

  async snapshot(file: string): Promise<void> {
    // SQLite's online backup: pages copied while writers go on, the result one consistent state.
    await this.db.backup(file);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private insertEvent(event: EventInput): EventRecord {
    const time = event.time ?? this.now();
    const result = this.db
      .prepare("INSERT INTO events (time, type, service, replica, reason, message) VALUES (?, ?, ?, ?, ?, ?)")
      .run(time, event.type, event.service, event.replica, event.reason, event.message);
    if (++this.eventsSincePrune >= 1000) {
      this.eventsSincePrune = 0;
      this.statement("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?").run(EVENTS_KEPT);
    }
    return { id: Number(result.lastInsertRowid), time, type: event.type, service: event.service, replica: event.replica, reason: event.reason, message: event.message };
  }

  /** Prepared statements are kept: preparing costs more than running most of these queries. */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private update(table: string, keyColumn: string, key: string, columns: Record<string, unknown>): void {
    const names = Object.keys(columns);
    if (names.length === 0) return;
    const assignments = [...names.map((n) => `${n} = @${n}`), "updated_at = @updated_at"].join(", ");
    const sql = `UPDATE ${table} SET ${assignments} WHERE ${keyColumn} = @key`;
    this.statement(sql).run({ ...columns, updated_at: this.now(), key });
  }
}
