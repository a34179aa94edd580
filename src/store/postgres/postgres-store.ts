/**
 * {@link Store} on PostgreSQL through `pg` (node-postgres): a pool for queries, a connection of its
 * own for LISTEN. Multi-row changes run in one transaction; a query inside one finds its client
 * through AsyncLocalStorage, so the same methods serve fenced writes (the lease row is locked FOR
 * SHARE first: no new leader can take the lease until the write commits). Row shapes are the
 * SQLite store's (64-bit integers read as numbers), so rows.ts reads both.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import crypto from "node:crypto";
import pg from "pg";
import type { AppliedService, AuditInput, AuditRecord, ConfigObjectRecord, EventInput, EventRecord, InstanceRecord, InstanceTransition, JobRecord, JobRun, JobStatus, MetricPoint, NodeRecord, VolumeRecord, PoolRecord, ReplicaRecord, RevisionRecord, RolloutRecord, ServiceRecord, TokenRecord } from "../../contract/index.js";
import type { PolicyDocument } from "../../spec/index.js";
import { auditHash, GENESIS } from "../../security/audit-chain.js";
import { checkColumns, DUMPED_TABLES } from "../dump.js";
import { Sealing } from "../sealing.js";
import { toAudit, toEvent, toMetricPoint, toReplica, toRevision, toRollout, toService, toToken, toVolume, patchColumns, type Row } from "../rows.js";
import { StaleLeaderError, type ApplyBatch, type EventQuery, type LeaderFence, type Lease, type ServerRecord, type Store, type StoreDump, type ValueCipher } from "../store.js";
import { PostgresJobTables } from "./job-tables.js";
import { PostgresPoolTables } from "./pool-tables.js";
import { POSTGRES_MIGRATIONS } from "./migrations.js";
import { EVENT_CHANNEL, NotifyFeed } from "./notify-feed.js";
import { connectionError, describeUrl } from "./postgres-url.js";

const EVENTS_KEPT = 20_000;
/** The database's clock in milliseconds: leases are judged by one clock, whatever the servers' clocks say. */
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
/** Advisory lock keys: one apply and one audit append at a time across servers; one migrator. */
const LOCKS = { migrate: 7_201_001, apply: 7_201_002, audit: 7_201_003 };

/** 64-bit integers as numbers (times in ms and ids fit well within 2^53). */
const types = { getTypeParser: ((oid: number, format?: "text" | "binary") => (oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser };

export class PostgresStore implements Store {
  readonly description: Store["description"];
  readonly changes: NotifyFeed;
  private readonly transaction = new AsyncLocalStorage<pg.PoolClient>();
  private eventsSincePrune = 0;
  private readonly sealing: Sealing;
  private readonly pools = new PostgresPoolTables((sql, params) => this.query(sql, params), (work) => this.tx(work));
  private readonly jobs = new PostgresJobTables((sql, params) => this.query(sql, params), (work) => this.tx(work));

  private constructor(
    private readonly pool: pg.Pool,
    config: pg.ClientConfig,
    location: string,
    private readonly now: () => number,
    cipher: ValueCipher | null,
    log: (message: string) => void,
  ) {
    this.description = { dialect: "postgres", location, schema: POSTGRES_MIGRATIONS.length };
    this.sealing = new Sealing(cipher);
    this.changes = new NotifyFeed(config, crypto.randomUUID(), (ids) => this.eventsById(ids), (channel, payload) => this.query("SELECT pg_notify($1, $2)", [channel, payload]).then(() => undefined), log);
  }

  /**
   * Connects, brings the schema up to date (one transaction per migration, one migrator at a time)
   * and seals secrets stored unsealed. @throws with what failed (the URL without its password).
   */
  static async open(url: string, options: { now?: () => number; cipher?: ValueCipher | null; log?: (message: string) => void } = {}): Promise<PostgresStore> {
    const location = describeUrl(url);
    const config: pg.ClientConfig = { connectionString: url, types, connectionTimeoutMillis: 5_000, application_name: "drover" };
    const pool = new pg.Pool({ ...config, max: 10, idleTimeoutMillis: 30_000 });
    // An idle connection the database dropped (a restart) is replaced on next use: nothing to crash for.
    pool.on("error", () => undefined);
    const store = new PostgresStore(pool, config, location, options.now ?? Date.now, options.cipher ?? null, options.log ?? (() => undefined));
    try {
      await store.migrate();
      await store.sealStoredSecrets();
      await store.changes.start();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw connectionError(location, error);
    }
    return store;
  }

  private async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    const client = this.transaction.getStore();
    return (await (client ?? this.pool).query(sql, params)).rows as Row[];
  }

  /** Runs `work` in one transaction (or in the one under way). */
  private async tx<T>(work: () => Promise<T>, before?: (client: pg.PoolClient) => Promise<void>): Promise<T> {
    if (this.transaction.getStore()) return work();
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await this.transaction.run(client, async () => {
        await before?.(client);
        return work();
      });
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async migrate(): Promise<void> {
    await this.tx(async () => {
      await this.query("SELECT pg_advisory_xact_lock($1)", [LOCKS.migrate]);
      await this.query("CREATE TABLE IF NOT EXISTS drover_schema (version INTEGER NOT NULL)");
      const [row] = await this.query("SELECT version FROM drover_schema");
      const version = row ? Number(row.version) : 0;
      if (version > POSTGRES_MIGRATIONS.length) throw new Error(`the database was written by a newer drover (schema ${version}, this one knows ${POSTGRES_MIGRATIONS.length})`);
      // DDL is transactional here: a migration killed half-way leaves the schema as it was.
      for (let v = version; v < POSTGRES_MIGRATIONS.length; v++) await this.query(POSTGRES_MIGRATIONS[v]!);
      if (row) await this.query("UPDATE drover_schema SET version = $1", [POSTGRES_MIGRATIONS.length]);
      else await this.query("INSERT INTO drover_schema (version) VALUES ($1)", [POSTGRES_MIGRATIONS.length]);
    });
  }

  private async sealStoredSecrets(): Promise<void> {
    await this.tx(async () => {
      for (const row of await this.query("SELECT name, data FROM config_objects WHERE kind = 'Secret' FOR UPDATE")) {
        const sealed = this.sealing.sealedIfPlain(String(row.name), String(row.data));
        if (sealed !== null) await this.query("UPDATE config_objects SET data = $1 WHERE kind = 'Secret' AND name = $2", [sealed, row.name]);
      }
    });
  }

  async apply(batch: ApplyBatch): Promise<{ services: AppliedService[]; events: EventRecord[] }> {
    return this.tx(async () => {
      // Applies through different servers take turns: revision numbers and versions are read, then written.
      await this.query("SELECT pg_advisory_xact_lock($1)", [LOCKS.apply]);
      const now = this.now();
      const pending: EventInput[] = [];
      for (const object of batch.configObjects) {
        const [existing] = await this.query("SELECT version, hash FROM config_objects WHERE kind = $1 AND name = $2", [object.kind, object.name]);
        if (existing?.hash === object.hash) continue;
        const version = existing ? Number(existing.version) + 1 : 1;
        await this.query(
          `INSERT INTO config_objects (kind, name, version, data, hash, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (kind, name) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data, hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at`,
          [object.kind, object.name, version, this.sealing.storedData(object.kind, object.name, object.data), object.hash, now],
        );
        pending.push({ type: `${object.kind}Applied`, service: null, replica: null, reason: existing ? "Changed" : "Created", message: `${object.kind} ${object.name} version ${version}` });
      }
      for (const policy of batch.policies ?? []) {
        const [existing] = await this.query("SELECT version, hash FROM policies WHERE name = $1", [policy.name]);
        if (existing?.hash === policy.hash) continue;
        const version = existing ? Number(existing.version) + 1 : 1;
        await this.query(
          `INSERT INTO policies (name, document, version, hash, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (name) DO UPDATE SET document = EXCLUDED.document, version = EXCLUDED.version, hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at`,
          [policy.name, JSON.stringify(policy.document), version, policy.hash, now],
        );
        pending.push({ type: "PolicyApplied", service: null, replica: null, reason: existing ? "Changed" : "Created", message: `policy ${policy.name} version ${version}` });
      }
      for (const pool of batch.pools ?? []) {
        const event = await this.pools.apply(pool, now);
        if (event) pending.push(event);
      }
      for (const job of batch.jobs ?? []) {
        const event = await this.jobs.apply(job, now);
        if (event) pending.push(event);
      }
      const services = await this.applyServices(batch, now, pending);
      if (batch.deletions.length > 0) {
        await this.query("UPDATE services SET deleting = 1, updated_at = $1 WHERE name = ANY($2::text[])", [now, batch.deletions]);
        for (const name of batch.deletions) pending.push({ type: "ServiceDeleting", service: name, replica: null, reason: "Pruned", message: `not in the applied files (--prune)` });
      }
      return { services, events: await this.insertEvents(pending, now) };
    });
  }

  /** The services of an apply in a few statements whatever their number (a round trip each would make 1,000 services slow). */
  private async applyServices(batch: ApplyBatch, now: number, pending: EventInput[]): Promise<AppliedService[]> {
    const names = batch.services.map((c) => c.name);
    if (names.length === 0) return [];
    const current = new Map(
      (await this.query("SELECT s.name, s.revision, s.deleting, r.hash FROM services s LEFT JOIN revisions r ON r.service = s.name AND r.number = s.revision WHERE s.name = ANY($1::text[])", [names])).map((row) => [String(row.name), row]),
    );
    const last = new Map((await this.query("SELECT service, MAX(number) AS n FROM revisions WHERE service = ANY($1::text[]) GROUP BY service", [names])).map((row) => [String(row.service), Number(row.n)]));
    const results: AppliedService[] = [];
    const unchanged: Array<{ name: string; replicas: number }> = [];
    const revisions: Array<{ change: ApplyBatch["services"][number]; number: number }> = [];
    for (const change of batch.services) {
      const existing = current.get(change.name);
      if (existing && existing.hash === change.hash && !existing.deleting) {
        unchanged.push({ name: change.name, replicas: change.replicas });
        results.push({ name: change.name, revision: Number(existing.revision), outcome: "unchanged" });
        continue;
      }
      const number = (last.get(change.name) ?? 0) + 1;
      revisions.push({ change, number });
      const outcome = existing ? "changed" : "created";
      results.push({ name: change.name, revision: number, outcome });
      pending.push({ type: "RevisionCreated", service: change.name, replica: null, reason: outcome === "created" ? "Created" : "SpecChanged", message: `revision ${number} by ${batch.author}${batch.message ? `: ${batch.message}` : ""}` });
    }
    if (unchanged.length > 0) {
      await this.query("UPDATE services AS s SET replicas = u.replicas, enabled = 1, updated_at = $3 FROM unnest($1::text[], $2::bigint[]) AS u(name, replicas) WHERE s.name = u.name", [unchanged.map((u) => u.name), unchanged.map((u) => u.replicas), now]);
    }
    if (revisions.length > 0) {
      const column = <T>(pick: (r: (typeof revisions)[number]) => T) => revisions.map(pick);
      await this.query(
        "INSERT INTO revisions (service, number, descriptor, hash, author, message, created_at) SELECT u.*, $5::text, $6::text, $7::bigint FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u",
        [column((r) => r.change.name), column((r) => r.number), column((r) => JSON.stringify(r.change.descriptor)), column((r) => r.change.hash), batch.author, batch.message, now],
      );
      await this.query(
        `INSERT INTO services (name, namespace, revision, replicas, enabled, deleting, created_at, updated_at)
           SELECT u.name, u.namespace, u.revision, u.replicas, 1, 0, $5::bigint, $5::bigint FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS u(name, namespace, revision, replicas)
         ON CONFLICT (name) DO UPDATE SET revision = EXCLUDED.revision, replicas = EXCLUDED.replicas, enabled = 1, deleting = 0, updated_at = EXCLUDED.updated_at`,
        [column((r) => r.change.name), column((r) => r.change.descriptor.metadata.namespace), column((r) => r.number), column((r) => r.change.replicas), now],
      );
    }
    return results;
  }

  async getService(name: string): Promise<ServiceRecord | undefined> {
    const [row] = await this.query("SELECT * FROM services WHERE name = $1", [name]);
    return row && toService(row);
  }

  async listServices(): Promise<ServiceRecord[]> {
    return (await this.query("SELECT * FROM services ORDER BY name")).map(toService);
  }

  async updateService(name: string, patch: Partial<Pick<ServiceRecord, "replicas" | "enabled" | "deleting" | "revision">>): Promise<void> {
    const columns: Record<string, unknown> = {};
    if (patch.replicas !== undefined) columns.replicas = patch.replicas;
    if (patch.revision !== undefined) columns.revision = patch.revision;
    if (patch.enabled !== undefined) columns.enabled = patch.enabled ? 1 : 0;
    if (patch.deleting !== undefined) columns.deleting = patch.deleting ? 1 : 0;
    await this.update("services", "name", name, columns);
  }

  async removeService(name: string): Promise<void> {
    await this.tx(async () => {
      for (const table of ["replicas", "revisions", "rollouts", "metric_minutes"]) await this.query(`DELETE FROM ${table} WHERE service = $1`, [name]);
      await this.query("DELETE FROM services WHERE name = $1", [name]);
    });
  }

  async getRevision(service: string, number: number): Promise<RevisionRecord | undefined> {
    const [row] = await this.query("SELECT * FROM revisions WHERE service = $1 AND number = $2", [service, number]);
    return row && toRevision(row);
  }

  async listRevisions(service: string): Promise<RevisionRecord[]> {
    return (await this.query("SELECT * FROM revisions WHERE service = $1 ORDER BY number", [service])).map(toRevision);
  }

  async listReplicas(service?: string): Promise<ReplicaRecord[]> {
    const rows = service
      ? await this.query("SELECT * FROM replicas WHERE service = $1 ORDER BY created_at, id", [service])
      : await this.query("SELECT * FROM replicas ORDER BY service, created_at, id");
    return rows.map(toReplica);
  }

  async getReplica(id: string): Promise<ReplicaRecord | undefined> {
    const [row] = await this.query("SELECT * FROM replicas WHERE id = $1", [id]);
    return row && toReplica(row);
  }

  async insertReplica(r: ReplicaRecord): Promise<void> {
    await this.query(
      `INSERT INTO replicas (id, service, revision, node, state, ports, pid, restarts, consecutive_failures, last_exit, reason, started_at, ready_at, next_start_at, healing, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [r.id, r.service, r.revision, r.node, r.state, JSON.stringify(r.ports), r.pid, r.restarts, r.consecutiveFailures, r.lastExit && JSON.stringify(r.lastExit), r.reason, r.startedAt, r.readyAt, r.nextStartAt, JSON.stringify(r.healing), r.createdAt, r.updatedAt],
    );
  }

  async updateReplica(id: string, patch: Partial<Omit<ReplicaRecord, "id" | "service" | "createdAt">>): Promise<void> {
    await this.update("replicas", "id", id, patchColumns(patch, ["ports", "lastExit", "healing"]));
  }

  async deleteReplica(id: string): Promise<void> {
    await this.query("DELETE FROM replicas WHERE id = $1", [id]);
  }

  async getConfigObject(kind: ConfigObjectRecord["kind"], name: string): Promise<ConfigObjectRecord | undefined> {
    const [row] = await this.query("SELECT * FROM config_objects WHERE kind = $1 AND name = $2", [kind, name]);
    return row && this.sealing.configObject(row);
  }

  async listConfigObjects(kind?: ConfigObjectRecord["kind"]): Promise<ConfigObjectRecord[]> {
    const rows = kind ? await this.query("SELECT * FROM config_objects WHERE kind = $1 ORDER BY name", [kind]) : await this.query("SELECT * FROM config_objects ORDER BY kind, name");
    return rows.map((row) => this.sealing.configObject(row));
  }

  async listConfigObjectHashes(): Promise<Array<Pick<ConfigObjectRecord, "kind" | "name" | "hash">>> {
    return (await this.query("SELECT kind, name, hash FROM config_objects ORDER BY kind, name")).map((r) => ({ kind: r.kind as ConfigObjectRecord["kind"], name: String(r.name), hash: String(r.hash) }));
  }

  async deleteConfigObject(kind: ConfigObjectRecord["kind"], name: string): Promise<void> {
    await this.query("DELETE FROM config_objects WHERE kind = $1 AND name = $2", [kind, name]);
  }

  async listPolicies(): Promise<Array<{ name: string; document: PolicyDocument; hash: string; version: number }>> {
    return (await this.query("SELECT * FROM policies ORDER BY name")).map((r) => ({ name: String(r.name), document: JSON.parse(String(r.document)) as PolicyDocument, hash: String(r.hash), version: Number(r.version) }));
  }

  async listRollouts(service: string, limit = 20): Promise<RolloutRecord[]> {
    return (await this.query("SELECT * FROM rollouts WHERE service = $1 ORDER BY id DESC LIMIT $2", [service, limit])).map(toRollout);
  }

  async insertRollout(r: Omit<RolloutRecord, "id">): Promise<RolloutRecord> {
    const [row] = await this.query(
      `INSERT INTO rollouts (service, from_revision, to_revision, strategy, state, step, step_started_at, progress_at, started_at, finished_at, failed_at, reason, marks, analysis, metrics, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
      [r.service, r.fromRevision, r.toRevision, r.strategy, r.state, r.step, r.stepStartedAt, r.progressAt, r.startedAt, r.finishedAt, r.failedAt, r.reason, JSON.stringify(r.marks), r.analysis && JSON.stringify(r.analysis), r.metrics && JSON.stringify(r.metrics), this.now()],
    );
    return { ...r, id: Number(row!.id) };
  }

  async countRollouts(): Promise<{ ended: Array<{ service: string; outcome: string; count: number }>; active: string[] }> {
    const ended = await this.query("SELECT service, state, COUNT(*) AS count FROM rollouts WHERE finished_at IS NOT NULL GROUP BY service, state");
    const active = await this.query("SELECT DISTINCT service FROM rollouts WHERE finished_at IS NULL");
    return { ended: ended.map((r) => ({ service: String(r.service), outcome: String(r.state), count: Number(r.count) })), active: active.map((r) => String(r.service)) };
  }

  async updateRollout(id: number, patch: Partial<Omit<RolloutRecord, "id" | "service">>): Promise<void> {
    await this.update("rollouts", "id", id, patchColumns(patch, ["marks", "analysis", "metrics"]));
  }

  async appendMetricMinutes(rows: Array<MetricPoint & { service: string }>, pruneBefore: number): Promise<void> {
    await this.tx(async () => {
      for (const r of rows) {
        await this.query(
          `INSERT INTO metric_minutes (service, at, replicas, cpu_cores, memory_bytes, watts, requests_per_second, error_rate, p95_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (service, at) DO UPDATE SET replicas = EXCLUDED.replicas, cpu_cores = EXCLUDED.cpu_cores, memory_bytes = EXCLUDED.memory_bytes, watts = EXCLUDED.watts,
             requests_per_second = EXCLUDED.requests_per_second, error_rate = EXCLUDED.error_rate, p95_ms = EXCLUDED.p95_ms`,
          [r.service, r.at, r.replicas, r.cpuCores, r.memoryBytes, r.watts, r.requestsPerSecond, r.errorRate, r.p95Ms],
        );
      }
      await this.query("DELETE FROM metric_minutes WHERE at < $1", [pruneBefore]);
    });
  }

  async listMetricMinutes(service: string, since: number, until: number): Promise<MetricPoint[]> {
    return (await this.query("SELECT * FROM metric_minutes WHERE service = $1 AND at >= $2 AND at <= $3 ORDER BY at", [service, since, until])).map(toMetricPoint);
  }

  async probe(): Promise<{ writable: boolean; latencyMs: number; error?: string }> {
    const started = performance.now();
    const latencyMs = () => Math.round((performance.now() - started) * 100) / 100;
    try {
      // A write lock on the lease row, released at once: fails on a read-only standby or a lost connection.
      await this.tx(async () => void (await this.query("SELECT 1 FROM leader_lease WHERE id = 1 FOR UPDATE")));
      return { writable: true, latencyMs: latencyMs() };
    } catch (error) {
      return { writable: false, latencyMs: latencyMs(), error: error instanceof Error ? error.message : String(error) };
    }
  }

  async insertToken(token: TokenRecord): Promise<void> {
    await this.query("INSERT INTO tokens (name, role, hash, created_at, expires_at, revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", [token.name, token.role, token.hash, token.createdAt, token.expiresAt, token.revokedAt, token.lastUsedAt]);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.query("SELECT * FROM tokens ORDER BY created_at, name")).map(toToken);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const [row] = await this.query("SELECT * FROM tokens WHERE hash = $1", [hash]);
    return row && toToken(row);
  }

  async updateToken(name: string, patch: Partial<Pick<TokenRecord, "revokedAt" | "lastUsedAt">>): Promise<void> {
    if (patch.revokedAt !== undefined) await this.query("UPDATE tokens SET revoked_at = $1 WHERE name = $2", [patch.revokedAt, name]);
    if (patch.lastUsedAt !== undefined) await this.query("UPDATE tokens SET last_used_at = $1 WHERE name = $2", [patch.lastUsedAt, name]);
  }

  async appendAudit(entry: AuditInput): Promise<AuditRecord> {
    return this.tx(async () => {
      // One append at a time across servers: each entry chains to the one before it.
      await this.query("SELECT pg_advisory_xact_lock($1)", [LOCKS.audit]);
      const [last] = await this.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
      const record = { seq: last ? Number(last.seq) + 1 : 1, time: this.now(), ...entry, prevHash: last ? String(last.hash) : GENESIS };
      const hash = auditHash(record);
      await this.query("INSERT INTO audit (seq, time, actor, role, action, object, summary, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", [record.seq, record.time, record.actor, record.role, record.action, record.object, record.summary, record.prevHash, hash]);
      return { ...record, hash };
    });
  }

  async listAudit(since = 0): Promise<AuditRecord[]> {
    return (await this.query("SELECT * FROM audit WHERE time >= $1 ORDER BY seq", [since])).map(toAudit);
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (await this.query("SELECT document FROM nodes ORDER BY name")).map((row) => JSON.parse(String(row.document)) as NodeRecord);
  }

  async getNode(name: string): Promise<NodeRecord | undefined> {
    const [row] = await this.query("SELECT document FROM nodes WHERE name = $1", [name]);
    return row && (JSON.parse(String(row.document)) as NodeRecord);
  }

  async findNodeByCredential(hash: string): Promise<NodeRecord | undefined> {
    const [row] = await this.query("SELECT document FROM nodes WHERE credential_hash = $1", [hash]);
    return row && (JSON.parse(String(row.document)) as NodeRecord);
  }

  async putNode(node: NodeRecord): Promise<void> {
    await this.query(
      `INSERT INTO nodes (name, document, credential_hash, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET document = EXCLUDED.document, credential_hash = EXCLUDED.credential_hash, updated_at = EXCLUDED.updated_at`,
      [node.name, JSON.stringify(node), node.credentialHash, node.updatedAt],
    );
  }

  async deleteNode(name: string): Promise<void> {
    await this.query("DELETE FROM nodes WHERE name = $1", [name]);
  }

  async insertJoinToken(token: { hash: string; createdAt: number; expiresAt: number; createdBy: string }): Promise<void> {
    await this.tx(async () => {
      await this.query("DELETE FROM join_tokens WHERE expires_at < $1", [token.createdAt]);
      await this.query("INSERT INTO join_tokens (hash, created_at, expires_at, created_by) VALUES ($1, $2, $3, $4)", [token.hash, token.createdAt, token.expiresAt, token.createdBy]);
    });
  }

  async findJoinToken(hash: string): Promise<{ expiresAt: number } | undefined> {
    const [row] = await this.query("SELECT expires_at FROM join_tokens WHERE hash = $1", [hash]);
    return row && { expiresAt: Number(row.expires_at) };
  }

  async snapshot(file: string): Promise<void> {
    const fs = await import("node:fs");
    fs.writeFileSync(file, JSON.stringify(await this.dump()), { mode: 0o600 });
  }

  async appendEvent(event: EventInput): Promise<EventRecord> {
    return this.insertEvent(event);
  }

  async listEvents(query: EventQuery = {}): Promise<EventRecord[]> {
    const limit = query.limit ?? 1000;
    const rows = query.service
      ? await this.query("SELECT * FROM (SELECT * FROM events WHERE id > $1 AND service = $2 ORDER BY id DESC LIMIT $3) recent ORDER BY id", [query.afterId ?? 0, query.service, limit])
      : await this.query("SELECT * FROM (SELECT * FROM events WHERE id > $1 ORDER BY id DESC LIMIT $2) recent ORDER BY id", [query.afterId ?? 0, limit]);
    return rows.map(toEvent);
  }

  async claimLease(holder: string, ttlMs: number): Promise<Lease> {
    await this.query(
      `UPDATE leader_lease SET
         term = CASE WHEN holder = $1 AND expires_at > ${DB_NOW} THEN term ELSE term + 1 END,
         since = CASE WHEN holder = $1 AND expires_at > ${DB_NOW} THEN since ELSE ${DB_NOW} END,
         holder = $1, expires_at = ${DB_NOW} + $2
       WHERE id = 1 AND (holder = $1 OR holder = '' OR expires_at <= ${DB_NOW})`,
      [holder, ttlMs],
    );
    return (await this.readLease())!;
  }

  async releaseLease(fence: LeaderFence): Promise<void> {
    await this.query("UPDATE leader_lease SET holder = '', expires_at = 0 WHERE id = 1 AND holder = $1 AND term = $2", [fence.holder, fence.term]);
  }

  async readLease(): Promise<Lease | null> {
    const [row] = await this.query("SELECT * FROM leader_lease WHERE id = 1");
    return !row || row.holder === "" ? null : { holder: String(row.holder), term: Number(row.term), expiresAt: Number(row.expires_at), since: Number(row.since) };
  }

  async fenced<T>(fence: LeaderFence, write: () => Promise<T>): Promise<T> {
    return this.tx(write, async (client) => {
      // FOR SHARE: a new leader's UPDATE of the lease waits until this write has committed.
      const { rowCount } = await client.query(`SELECT 1 FROM leader_lease WHERE id = 1 AND holder = $1 AND term = $2 AND expires_at > ${DB_NOW} FOR SHARE`, [fence.holder, fence.term]);
      if (rowCount !== 1) throw new StaleLeaderError(fence);
    });
  }

  async putServer(server: ServerRecord): Promise<void> {
    await this.query(
      `INSERT INTO servers (id, url, cluster_url, version, started_at, seen_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, cluster_url = EXCLUDED.cluster_url, version = EXCLUDED.version, seen_at = EXCLUDED.seen_at`,
      [server.id, server.url, server.clusterUrl, server.version, server.startedAt, server.seenAt],
    );
  }

  async listServers(): Promise<ServerRecord[]> {
    return (await this.query("SELECT * FROM servers ORDER BY started_at, id")).map((r) => ({ id: String(r.id), url: String(r.url), clusterUrl: r.cluster_url === null ? null : String(r.cluster_url), version: String(r.version), startedAt: Number(r.started_at), seenAt: Number(r.seen_at) }));
  }

  async deleteServer(id: string): Promise<void> {
    await this.query("DELETE FROM servers WHERE id = $1", [id]);
  }

  async ensureSetting(key: string, make: () => string | Promise<string>, options: { sealed?: boolean } = {}): Promise<string> {
    const open = (text: string) => this.sealing.openSetting(key, text, options.sealed ?? false);
    const [existing] = await this.query("SELECT value FROM settings WHERE key = $1", [key]);
    if (existing) return open(String(existing.value));
    const value = await make();
    const text = this.sealing.settingText(key, value, options.sealed ?? false);
    // Two servers starting together: the first insert wins and both read it back.
    await this.query("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING", [key, text, this.now()]);
    const [stored] = await this.query("SELECT value FROM settings WHERE key = $1", [key]);
    return open(String(stored!.value));
  }

  async listPools(): Promise<PoolRecord[]> {
    return this.pools.list();
  }

  async getPool(name: string): Promise<PoolRecord | undefined> {
    return this.pools.get(name);
  }

  async updatePool(name: string, patch: Partial<Pick<PoolRecord, "desired" | "problem" | "deleting">>): Promise<void> {
    await this.pools.update(name, patch, this.now());
  }

  async deletePool(name: string): Promise<void> {
    await this.pools.delete(name);
  }

  async listInstances(pool?: string): Promise<InstanceRecord[]> {
    return this.pools.listInstances(pool);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.pools.getInstance(id);
  }

  async putInstance(instance: InstanceRecord): Promise<void> {
    await this.pools.putInstance(instance);
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
    await this.jobs.update(name, patch);
  }

  async deleteJob(name: string): Promise<void> {
    await this.jobs.delete(name);
  }

  async listRuns(job: string, limit?: number): Promise<JobRun[]> {
    return this.jobs.listRuns(job, limit);
  }

  async getRun(job: string, number: number): Promise<JobRun | undefined> {
    return this.jobs.getRun(job, number);
  }

  async listVolumes(service?: string): Promise<VolumeRecord[]> {
    const rows = service === undefined ? await this.query("SELECT * FROM volumes ORDER BY key") : await this.query("SELECT * FROM volumes WHERE service = $1 ORDER BY key", [service]);
    return rows.map(toVolume);
  }

  async getVolume(key: string): Promise<VolumeRecord | undefined> {
    const [row] = await this.query("SELECT * FROM volumes WHERE key = $1", [key]);
    return row && toVolume(row);
  }

  async claimVolume(v: VolumeRecord): Promise<VolumeRecord> {
    await this.query("INSERT INTO volumes (key, service, name, ordinal, node, size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING", [v.key, v.service, v.name, v.ordinal, v.node, v.size, v.createdAt]);
    return (await this.getVolume(v.key))!;
  }

  async deleteVolume(key: string): Promise<void> {
    await this.query("DELETE FROM volumes WHERE key = $1", [key]);
  }

  async insertRun(run: JobRun): Promise<boolean> {
    return this.jobs.insertRun(run);
  }

  async putRun(run: JobRun): Promise<void> {
    await this.jobs.putRun(run);
  }

  async deleteRun(job: string, number: number): Promise<void> {
    await this.jobs.deleteRun(job, number);
  }


  async dump(): Promise<StoreDump> {
    return this.tx(async () => {
      // One snapshot of every table: a repeatable-read transaction sees one committed state.
      await this.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const tables: StoreDump["tables"] = {};
      for (const table of DUMPED_TABLES) tables[table] = await this.query(`SELECT * FROM ${table}`);
      return { format: "drover-store-v1", schema: { dialect: "postgres", version: POSTGRES_MIGRATIONS.length }, tables };
    });
  }

  async load(dump: StoreDump, options: { replace?: boolean } = {}): Promise<void> {
    await this.tx(async () => {
      await this.query("SELECT pg_advisory_xact_lock($1)", [LOCKS.apply]);
      const [count] = await this.query("SELECT COUNT(*)::int AS n FROM services");
      if (!options.replace && Number(count!.n) !== 0) throw new Error("the store has services already: load into an empty store, or replace what it has");
      if (options.replace) await this.query(`TRUNCATE ${DUMPED_TABLES.join(", ")}`);
      for (const table of DUMPED_TABLES) {
        const known = new Set((await this.query("SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()", [table])).map((r) => String(r.column_name)));
        for (const row of dump.tables[table] ?? []) {
          const columns = checkColumns(table, row, known);
          await this.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`, columns.map((c) => row[c]));
        }
      }
      // Loaded ids were given explicitly: the identity sequences go on after the highest.
      for (const table of ["events", "rollouts", "pool_transitions"]) await this.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), COALESCE((SELECT MAX(id) FROM ${table}), 0) + 1, false)`);
    });
  }

  async close(): Promise<void> {
    await this.changes.close();
    await this.pool.end();
  }

  private async insertEvent(event: EventInput): Promise<EventRecord> {
    return (await this.insertEvents([event], this.now()))[0]!;
  }

  /** Events in one statement, in order; the notice of each goes in the same statement: other servers hear of them when they commit, not before. */
  private async insertEvents(events: EventInput[], now: number): Promise<EventRecord[]> {
    if (events.length === 0) return [];
    const times = events.map((e) => e.time ?? now);
    const rows = await this.query(
      `WITH inserted AS (
         INSERT INTO events (time, type, service, replica, reason, message)
         SELECT u.time, u.type, u.service, u.replica, u.reason, u.message
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(time, type, service, replica, reason, message, position) ORDER BY u.position
         RETURNING id)
       SELECT id, pg_notify('${EVENT_CHANNEL}', $7 || ' ' || id) FROM inserted ORDER BY id`,
      [times, events.map((e) => e.type), events.map((e) => e.service), events.map((e) => e.replica), events.map((e) => e.reason), events.map((e) => e.message), this.changes.origin],
    );
    this.eventsSincePrune += events.length;
    if (this.eventsSincePrune >= 1000) {
      this.eventsSincePrune = 0;
      await this.query("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - $1", [EVENTS_KEPT]);
    }
    return events.map((event, i) => ({ id: Number(rows[i]!.id), time: times[i]!, type: event.type, service: event.service, replica: event.replica, reason: event.reason, message: event.message }));
  }

  private async eventsById(ids: number[]): Promise<EventRecord[]> {
    return (await this.query("SELECT * FROM events WHERE id = ANY($1::bigint[]) ORDER BY id", [ids])).map(toEvent);
  }

  private async update(table: string, keyColumn: string, key: string | number, columns: Record<string, unknown>): Promise<void> {
    const names = Object.keys(columns);
    if (names.length === 0) return;
    const assignments = [...names, "updated_at"].map((n, i) => `${n} = $${i + 1}`).join(", ");
    await this.query(`UPDATE ${table} SET ${assignments} WHERE ${keyColumn} = $${names.length + 2}`, [...names.map((n) => columns[n]), this.now(), key]);
  }
}
