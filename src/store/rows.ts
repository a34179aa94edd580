/** Rows of either store (SQLite, or PostgreSQL with its 64-bit integers read as numbers) as records: columns to fields, JSON columns parsed, NULLs kept. */
import type { AuditRecord, ConfigObjectRecord, EventRecord, InstanceRecord, InstanceState, InstanceTransition, JobRecord, JobRun, JobStatus, MetricPoint, VolumeRecord, PoolRecord, ReplicaRecord, RevisionRecord, RolloutRecord, ServiceRecord, TokenRecord } from "../contract/index.js";
import type { JobDescriptor } from "../spec/index.js";

export type Row = Record<string, unknown>;

export function toService(row: Row): ServiceRecord {
  return {
    name: String(row.name),
    namespace: String(row.namespace),
    revision: Number(row.revision),
    replicas: Number(row.replicas),
    enabled: row.enabled === 1,
    deleting: row.deleting === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toRevision(row: Row): RevisionRecord {
  return {
    service: String(row.service),
    number: Number(row.number),
    descriptor: JSON.parse(String(row.descriptor)),
    hash: String(row.hash),
    author: String(row.author),
    message: String(row.message),
    createdAt: Number(row.created_at),
  };
}

export function toReplica(row: Row): ReplicaRecord {
  const optionalNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    id: String(row.id),
    service: String(row.service),
    revision: Number(row.revision),
    node: String(row.node),
    state: row.state as ReplicaRecord["state"],
    ports: JSON.parse(String(row.ports)),
    pid: optionalNumber(row.pid),
    restarts: Number(row.restarts),
    consecutiveFailures: Number(row.consecutive_failures),
    lastExit: row.last_exit ? JSON.parse(String(row.last_exit)) : null,
    reason: String(row.reason),
    startedAt: optionalNumber(row.started_at),
    readyAt: optionalNumber(row.ready_at),
    nextStartAt: optionalNumber(row.next_start_at),
    healing: JSON.parse(String(row.healing)),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toRollout(row: Row): RolloutRecord {
  const optionalNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    id: Number(row.id),
    service: String(row.service),
    fromRevision: Number(row.from_revision),
    toRevision: Number(row.to_revision),
    strategy: row.strategy as RolloutRecord["strategy"],
    state: row.state as RolloutRecord["state"],
    step: Number(row.step),
    stepStartedAt: optionalNumber(row.step_started_at),
    progressAt: Number(row.progress_at),
    startedAt: Number(row.started_at),
    finishedAt: optionalNumber(row.finished_at),
    failedAt: optionalNumber(row.failed_at),
    reason: String(row.reason),
    marks: JSON.parse(String(row.marks)),
    analysis: row.analysis ? JSON.parse(String(row.analysis)) : null,
    metrics: row.metrics ? JSON.parse(String(row.metrics)) : null,
  };
}

export function toConfigObject(row: Row): ConfigObjectRecord {
  return {
    kind: row.kind as ConfigObjectRecord["kind"],
    name: String(row.name),
    version: Number(row.version),
    data: JSON.parse(String(row.data)),
    hash: String(row.hash),
    updatedAt: Number(row.updated_at),
  };
}

export function toToken(r: Row): TokenRecord {
  const orNull = (v: unknown) => (v === null ? null : Number(v));
  return { name: String(r.name), role: r.role as TokenRecord["role"], hash: String(r.hash), createdAt: Number(r.created_at), expiresAt: orNull(r.expires_at), revokedAt: orNull(r.revoked_at), lastUsedAt: orNull(r.last_used_at) };
}


export function toAudit(r: Row): AuditRecord {
  return { seq: Number(r.seq), time: Number(r.time), actor: String(r.actor), role: String(r.role), action: String(r.action), object: String(r.object), summary: String(r.summary), prevHash: String(r.prev_hash), hash: String(r.hash) };
}

export function toMetricPoint(r: Row): MetricPoint {
  const orNull = (v: unknown) => (v === null ? null : Number(v));
  return { at: Number(r.at), replicas: Number(r.replicas), cpuCores: Number(r.cpu_cores), memoryBytes: Number(r.memory_bytes), watts: Number(r.watts), requestsPerSecond: Number(r.requests_per_second), errorRate: orNull(r.error_rate), p95Ms: orNull(r.p95_ms) };
}

export function toEvent(r: Row): EventRecord {
  return { id: Number(r.id), time: Number(r.time), type: String(r.type), service: r.service === null ? null : String(r.service), replica: r.replica === null ? null : String(r.replica), reason: String(r.reason), message: String(r.message) };
}

/** A patch of record fields as columns: camelCase to snake_case, the named fields as JSON text. */
export function patchColumns(patch: Record<string, unknown>, json: string[]): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const column = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    columns[column] = json.includes(key) ? (value === null ? null : JSON.stringify(value)) : value;
  }
  return columns;
}

export function toPool(row: Row): PoolRecord {
  return {
    name: String(row.name),
    document: JSON.parse(String(row.document)),
    hash: String(row.hash),
    version: Number(row.version),
    desired: row.desired === null || row.desired === undefined ? null : Number(row.desired),
    problem: row.problem === null || row.problem === undefined ? null : String(row.problem),
    deleting: Number(row.deleting) === 1,
    updatedAt: Number(row.updated_at),
  };
}

export function toJob(row: Row): JobRecord {
  const descriptor = JSON.parse(String(row.document)) as JobDescriptor;
  return {
    name: String(row.name),
    namespace: descriptor.metadata.namespace,
    kind: String(row.kind) as JobRecord["kind"],
    descriptor,
    hash: String(row.hash),
    version: Number(row.version),
    status: JSON.parse(String(row.status)) as JobStatus,
    deleting: Number(row.deleting) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toVolume(row: Row): VolumeRecord {
  return {
    key: String(row.key),
    service: String(row.service),
    name: String(row.name),
    ordinal: row.ordinal === null || row.ordinal === undefined ? null : Number(row.ordinal),
    node: String(row.node),
    size: row.size === null || row.size === undefined ? null : Number(row.size),
    createdAt: Number(row.created_at),
  };
}

export function toRun(row: Row): JobRun {
  return JSON.parse(String(row.document)) as JobRun;
}

export function toInstance(row: Row): InstanceRecord {
  return JSON.parse(String(row.document)) as InstanceRecord;
}

export function toTransition(row: Row): InstanceTransition {
  return {
    id: Number(row.id),
    instance: String(row.instance),
    pool: String(row.pool),
    from: row.from_state === null ? null : (String(row.from_state) as InstanceState),
    to: String(row.to_state) as InstanceState,
    at: Number(row.at),
    reason: String(row.reason),
  };
}
