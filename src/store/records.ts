/** The rows drover keeps: desired state (services, revisions) and what it observed (replicas, events). */
import type { ServiceDescriptor } from "../spec/index.js";

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
  | "crash_loop";

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** True when the exit is known only as "gone" (the process ended while drover was not its parent). */
  unknown?: boolean;
  at: number;
}

export interface ReplicaRecord {
  id: string;
  service: string;
  revision: number;
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
  /** When an exited replica may be started again (backoff). */
  nextStartAt: number | null;
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
