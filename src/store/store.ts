/**
 * The source of truth for desired state. Every method that changes more than one row does so in
 * one transaction. Methods are async so a networked store (PostgreSQL) fits the same interface.
 */
import type { LeaderFence, Lease, ServerRecord } from "../contract/index.js";
import type { AppliedService, AuditInput, AuditRecord, ConfigObjectRecord, EventInput, EventRecord, InstanceRecord, InstanceTransition, JobRecord, JobRun, JobStatus, MetricPoint, VolumeRecord, NodeRecord, PoolRecord, ReplicaRecord, RevisionRecord, RolloutRecord, ServiceRecord, TokenRecord } from "../contract/index.js";
import type { JobDescriptor, NodePoolDocument, PolicyDocument, ServiceDescriptor } from "../spec/index.js";

/** One service in an apply: new revision only when `hash` differs from the current one. */
export interface ServiceChange {
  name: string;
  descriptor: ServiceDescriptor;
  hash: string;
  replicas: number;
}

export interface ApplyBatch {
  services: ServiceChange[];
  configObjects: Array<Omit<ConfigObjectRecord, "version" | "updatedAt">>;
  /** Admission policies, by `namespace/name`. */
  policies?: Array<{ name: string; document: PolicyDocument; hash: string }>;
  /** Node pools (kind: NodePool), by name; an applied pool keeps its size and instances. */
  pools?: Array<{ name: string; document: NodePoolDocument; hash: string }>;
  /** Jobs and cron jobs, by `namespace/name`: a changed one gets a new version (a Job runs once per version). */
  jobs?: Array<{ name: string; descriptor: JobDescriptor; hash: string }>;
  /** Services to delete (`--prune`). */
  deletions: string[];
  author: string;
  message: string;
}


export interface EventQuery {
  afterId?: number;
  service?: string;
  limit?: number;
}

/** Seals secret values before they are stored and opens them when read (see security/secret-box). */
export interface ValueCipher {
  seal(plaintext: string, context: string): string;
  unseal(sealed: string, context: string): string;
  /** Whether stored text is sealed already (data written before encryption at rest is not). */
  isSealed(text: string): boolean;
}

export type { LeaderFence, Lease, ServerRecord };

/** A controller write refused: the lease has another holder or term, or has expired. */
export class StaleLeaderError extends Error {
  /** `fence` null: this server holds no lease at all. */
  constructor(fence: LeaderFence | null) {
    super(fence ? `not the leader any more (term ${fence.term} of ${fence.holder} is over): the write is refused` : "this server does not lead: the write is refused");
  }
}

/** News between servers on one database: wake-ups for the leader's controllers and events as written. */
export interface ChangeFeed {
  /** Asks the leader's controllers for a pass (changes written through any server). */
  wake(): void;
  onWake(listener: () => void): () => void;
  /** Events written by other servers (one's own are published where they are written). */
  onEvent(listener: (event: EventRecord) => void): () => void;
  /** Tells the other servers the leader lease was given up (a clean shutdown): one takes it at once. */
  leaseReleased(): Promise<void>;
  onLeaseReleased(listener: () => void): () => void;
}

/** Every table's rows as stored (the same columns in both dialects): `store migrate` and PostgreSQL backups. */
export interface StoreDump {
  format: "drover-store-v1";
  schema: { dialect: string; version: number };
  tables: Record<string, Array<Record<string, unknown>>>;
}

export interface Store {
  /** `sqlite` or `postgres`, where (file or host/database, no password) and the schema version. */
  readonly description: { dialect: "sqlite" | "postgres"; location: string; schema: number };
  readonly changes: ChangeFeed;

  /** Applies a whole batch atomically and records an event per change. */
  apply(batch: ApplyBatch): Promise<{ services: AppliedService[]; events: EventRecord[] }>;

  getService(name: string): Promise<ServiceRecord | undefined>;
  listServices(): Promise<ServiceRecord[]>;
  updateService(name: string, patch: Partial<Pick<ServiceRecord, "replicas" | "enabled" | "deleting" | "revision">>): Promise<void>;
  /** Removes a service and its revisions and replica rows. */
  removeService(name: string): Promise<void>;

  getRevision(service: string, number: number): Promise<RevisionRecord | undefined>;
  listRevisions(service: string): Promise<RevisionRecord[]>;

  listReplicas(service?: string): Promise<ReplicaRecord[]>;
  getReplica(id: string): Promise<ReplicaRecord | undefined>;
  insertReplica(replica: ReplicaRecord): Promise<void>;
  updateReplica(id: string, patch: Partial<Omit<ReplicaRecord, "id" | "service" | "createdAt">>): Promise<void>;
  deleteReplica(id: string): Promise<void>;

  getConfigObject(kind: ConfigObjectRecord["kind"], name: string): Promise<ConfigObjectRecord | undefined>;
  listConfigObjects(kind?: ConfigObjectRecord["kind"]): Promise<ConfigObjectRecord[]>;
  /** Which config objects exist and their hashes, without their data (no secret is decrypted). */
  listConfigObjectHashes(): Promise<Array<Pick<ConfigObjectRecord, "kind" | "name" | "hash">>>;
  deleteConfigObject(kind: ConfigObjectRecord["kind"], name: string): Promise<void>;
  listPolicies(): Promise<Array<{ name: string; document: PolicyDocument; hash: string; version: number }>>;

  /** The service's rollouts, newest first. */
  listRollouts(service: string, limit?: number): Promise<RolloutRecord[]>;
  insertRollout(rollout: Omit<RolloutRecord, "id">): Promise<RolloutRecord>;
  /** Ended rollouts counted by service and outcome, and the services with one under way: for /metrics. */
  countRollouts(): Promise<{ ended: Array<{ service: string; outcome: string; count: number }>; active: string[] }>;
  updateRollout(id: number, patch: Partial<Omit<RolloutRecord, "id" | "service">>): Promise<void>;

  /** Per-minute averages per service; rows older than `pruneBefore` go in the same transaction. */
  appendMetricMinutes(rows: Array<MetricPoint & { service: string }>, pruneBefore: number): Promise<void>;
  listMetricMinutes(service: string, since: number, until: number): Promise<MetricPoint[]>;

  /** Whether the store takes writes now (a write lock is taken and released, nothing written), and how long that took. */
  probe(): Promise<{ writable: boolean; latencyMs: number; error?: string }>;

  insertToken(token: TokenRecord): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  updateToken(name: string, patch: Partial<Pick<TokenRecord, "revokedAt" | "lastUsedAt">>): Promise<void>;

  /** Appends to the audit trail, chaining the entry to the one before (in one transaction). */
  appendAudit(entry: AuditInput): Promise<AuditRecord>;
  listAudit(since?: number): Promise<AuditRecord[]>;

  listNodes(): Promise<NodeRecord[]>;
  getNode(name: string): Promise<NodeRecord | undefined>;
  findNodeByCredential(hash: string): Promise<NodeRecord | undefined>;
  /** Inserts or replaces the whole node. */
  putNode(node: NodeRecord): Promise<void>;
  deleteNode(name: string): Promise<void>;

  /** Join tokens are kept as SHA-256 only; expired ones are deleted as new ones are made. */
  insertJoinToken(token: { hash: string; createdAt: number; expiresAt: number; createdBy: string }): Promise<void>;
  /** The token's expiry when it exists (expired or not). */
  findJoinToken(hash: string): Promise<{ expiresAt: number } | undefined>;

  listPools(): Promise<PoolRecord[]>;
  getPool(name: string): Promise<PoolRecord | undefined>;
  /** The size asked for (`drover pool scale`, the cluster autoscaler) and why the pool cannot grow. */
  updatePool(name: string, patch: Partial<Pick<PoolRecord, "desired" | "problem" | "deleting">>): Promise<void>;
  /** Removes the pool and its instances' records and history (its instances must be gone). */
  deletePool(name: string): Promise<void>;
  listInstances(pool?: string): Promise<InstanceRecord[]>;
  getInstance(id: string): Promise<InstanceRecord | undefined>;
  /** Inserts or replaces the instance; a change of state appends its transition, in the same transaction. */
  putInstance(instance: InstanceRecord): Promise<void>;
  /** A pool's lifecycle transitions, oldest first. */
  listTransitions(pool: string): Promise<InstanceTransition[]>;

  listJobs(): Promise<JobRecord[]>;
  getJob(name: string): Promise<JobRecord | undefined>;
  updateJob(name: string, patch: { status?: JobStatus; deleting?: boolean }): Promise<void>;
  /** Removes the job and every run of it. */
  deleteJob(name: string): Promise<void>;
  /** A job's runs, newest first. */
  listRuns(job: string, limit?: number): Promise<JobRun[]>;
  getRun(job: string, number: number): Promise<JobRun | undefined>;
  /** Inserts a new run; false when its number is taken already (another server numbered one first). */
  insertRun(run: JobRun): Promise<boolean>;
  /** Replaces the run. */
  putRun(run: JobRun): Promise<void>;
  deleteRun(job: string, number: number): Promise<void>;

  listVolumes(service?: string): Promise<VolumeRecord[]>;
  getVolume(key: string): Promise<VolumeRecord | undefined>;
  /** Records a volume where it was first made; one already recorded stays as it is (the first node wins). Returns the record as stored. */
  claimVolume(volume: VolumeRecord): Promise<VolumeRecord>;
  deleteVolume(key: string): Promise<void>;

  /** A consistent copy of the whole store at `file`, taken while it is in use. */
  snapshot(file: string): Promise<void>;

  appendEvent(event: EventInput): Promise<EventRecord>;
  listEvents(query?: EventQuery): Promise<EventRecord[]>;

  /**
   * Takes the leader lease for `holder` when it is free or expired (a new term), or renews it when
   * `holder` has it (same term); returns the lease as it now is, whoever holds it.
   */
  claimLease(holder: string, ttlMs: number): Promise<Lease>;
  /** Gives the lease up at once (a clean shutdown), if `fence` still holds it. */
  releaseLease(fence: LeaderFence): Promise<void>;
  readLease(): Promise<Lease | null>;
  /**
   * Runs `write` so that it changes nothing unless `fence` holds the lease when it commits.
   * @throws StaleLeaderError otherwise.
   */
  fenced<T>(fence: LeaderFence, write: () => Promise<T>): Promise<T>;

  putServer(server: ServerRecord): Promise<void>;
  listServers(): Promise<ServerRecord[]>;
  deleteServer(id: string): Promise<void>;

  /** Cluster-wide settings (the cluster CA): written once, the first writer wins; the value as stored. */
  ensureSetting(key: string, make: () => string | Promise<string>, options?: { sealed?: boolean }): Promise<string>;

  dump(): Promise<StoreDump>;
  /** Loads a dump into an empty store in one transaction (nothing half-written); `replace` empties it first. */
  load(dump: StoreDump, options?: { replace?: boolean }): Promise<void>;

  close(): Promise<void>;
}
