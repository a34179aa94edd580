/** The rows drover keeps — desired state (services, revisions) and what it observed (replicas, events) — as the API returns them. */
import type { ServiceDescriptor } from "../spec/index.js";
import type { ExitInfo } from "./replicas.js";

export interface ServiceRecord {
  /** `namespace/name`. */
  name: string;
  namespace: string;
  /** The revision replicas should run. */
  revision: number;
  /** Desired replica count; kept apart from the revision so scaling is not a rollout. */
  replicas: number;
  /** False after `drover stop`: desired state kept, no replicas run. */
  enabled: boolean;
  /** Set by `drover delete`; the row goes once every replica has stopped. */
  deleting: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface RevisionRecord {
  service: string;
  number: number;
  /** The whole normalised descriptor except `spec.replicas`. */
  descriptor: ServiceDescriptor;
  hash: string;
  author: string;
  message: string;
  createdAt: number;
}

export type ReplicaState =
  | "pending"
  | "starting"
  | "running"
  | "ready"
  | "unready"
  | "terminating"
  | "exited"
  | "failed"
  | "crash_loop"
  /** Its node went down: replaced elsewhere; stopped for good if the node comes back. */
  | "lost";


export type HealingTrigger = "liveness_failure" | "crash_loop" | "readiness_timeout" | "oom_killed" | "exit_nonzero";

/** A stop drover made for a probe trigger, and what to do once the replica has ended. */
export interface PendingHealing {
  trigger: HealingTrigger;
  /** `policy`: no rule applies; the restart policy decides. */
  action: "restart" | "recreate" | "fail" | "policy";
  delayMs: number;
  /** Words for the event and for `drover describe`. */
  reason: string;
}

export interface HealingState {
  /** Attempts used, by index of the rule in `spec.healing`. */
  attempts: Record<string, number>;
  pending: PendingHealing | null;
  /** The start (startedAt) for which readiness_timeout has fired, so it fires once per start. */
  readinessTimeoutFor: number | null;
}

export interface ReplicaRecord {
  id: string;
  service: string;
  revision: number;
  /** Where it runs; "" while it is pending without a node that fits (`reason` says why). */
  node: string;
  state: ReplicaState;
  /** Host ports by port name. */
  ports: Record<string, number>;
  pid: number | null;
  restarts: number;
  /** Exits in a row that came before `reset_after` of healthy running; drives backoff. */
  consecutiveFailures: number;
  lastExit: ExitInfo | null;
  reason: string;
  startedAt: number | null;
  readyAt: number | null;
  /** When an exited replica may be started again (backoff), or a pending one created (recreate). */
  nextStartAt: number | null;
  healing: HealingState;
  createdAt: number;
  updatedAt: number;
}

export interface EventRecord {
  id: number;
  time: number;
  type: string;
  service: string | null;
  replica: string | null;
  reason: string;
  message: string;
}

export type EventInput = Omit<EventRecord, "id" | "time"> & { time?: number };

export interface ConfigObjectRecord {
  /** `namespace/name`. */
  name: string;
  kind: "ConfigMap" | "Secret";
  version: number;
  data: Record<string, string>;
  hash: string;
  updatedAt: number;
}

export type RolloutStrategy = "rolling" | "blue_green" | "canary" | "immediate";

/**
 * `progressing` → `succeeded`; a failed gate, analysis or deadline → `rolling_back` (with
 * auto_rollback) → `rolled_back`, or `failed` (without); `paused` by the user.
 */
export type RolloutState = "progressing" | "paused" | "rolling_back" | "succeeded" | "rolled_back" | "failed";

/** Traffic totals of one revision at a moment (the router's counters; they restart with drover). */
export interface TrafficMark {
  requests: number;
  errors: number;
  latencyBuckets: number[];
}

export interface CanaryAnalysis {
  at: number;
  canary: { requests: number; errorRate: number | null; p95Ms: number | null };
  stable: { requests: number; errorRate: number | null; p95Ms: number | null };
  verdict: "pass" | "fail" | "waiting";
  reason: string;
}

export interface RolloutMetrics {
  durationMs: number;
  outcome: RolloutState;
  /** From the failure until the previous revision served everything again. */
  rollbackDurationMs: number | null;
  /** From the router's counts for the service during the rollout. */
  requests: number;
  errors: number;
  availability: number | null;
}

export interface RolloutRecord {
  id: number;
  service: string;
  fromRevision: number;
  toRevision: number;
  strategy: RolloutStrategy;
  state: RolloutState;
  /** Canary: the step under way (index into the steps; = steps.length while promoting). */
  step: number;
  /** Canary: when the step's replicas were all ready and its pause began. Blue-green: when traffic switched. */
  stepStartedAt: number | null;
  /** The last time the rollout made progress (for progress_deadline). */
  progressAt: number;
  startedAt: number;
  finishedAt: number | null;
  /** When the rollback began (the failed gate, analysis or deadline, or the user's undo/abort). */
  failedAt: number | null;
  reason: string;
  /** Router counts per revision when the rollout (and the current canary step) began. */
  marks: { start: Record<string, TrafficMark>; step: Record<string, TrafficMark> };
  analysis: CanaryAnalysis | null;
  metrics: RolloutMetrics | null;
}

/** A service's figures at a moment (a sample) or over a period (an average). */
export interface MetricPoint {
  at: number;
  /** Replicas the figures are summed over (an average over a minute's samples). */
  replicas: number;
  cpuCores: number;
  memoryBytes: number;
  watts: number;
  requestsPerSecond: number;
  /** 5xx share of requests; null without requests. */
  errorRate: number | null;
  p95Ms: number | null;
}

export type Role = "viewer" | "operator" | "admin";

export interface TokenRecord {
  name: string;
  role: Role;
  /** SHA-256 of the token, hex: the token itself is never stored. */
  hash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** One entry of the audit trail; `hash` chains it to the one before. */
export interface AuditRecord {
  seq: number;
  time: number;
  actor: string;
  role: string;
  action: string;
  object: string;
  summary: string;
  prevHash: string;
  hash: string;
}

export type AuditInput = Pick<AuditRecord, "actor" | "role" | "action" | "object" | "summary">;


/** Who leads the controllers among the servers on one database, and until when (the store's clock, ms). */
export interface Lease {
  holder: string;
  /** Goes up by one with every new holder: the fencing token every controller write carries. */
  term: number;
  expiresAt: number;
  /** When the holder got it (this term's start). */
  since: number;
}

/** What a controller write must match: the lease's holder and term, still unexpired. */
export interface LeaderFence {
  holder: string;
  term: number;
}

/** A server on the database, as it last said (for `drover doctor` and agents' failover). */
export interface ServerRecord {
  id: string;
  url: string;
  /** Where its agents dial (`--cluster-listen`, advertised), or null. */
  clusterUrl: string | null;
  version: string;
  startedAt: number;
  seenAt: number;
}

/** Who this server is among the servers on its store, and who leads: `drover doctor`, /api/v1/info. */
export interface ServerRoleView {
  server: string;
  leading: boolean;
  lease: Lease | null;
  servers: ServerRecord[];
  store: { dialect: "sqlite" | "postgres"; location: string; schema: number };
}
