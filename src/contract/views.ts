/**
 * What the API answers besides stored records: service summaries, replicas with their live
 * figures, rollouts, `top`, and apply plans. The CLI and the dashboard read these.
 */
import type { MetricPoint, ReplicaRecord, RolloutRecord } from "./records.js";
import type { ProbeReport } from "./probes.js";
import type { ResourceUsage } from "./replicas.js";

/** One word for how a service is doing, derived from its replicas (never stored, so never stale). */
export type ServiceStatus = "ready" | "progressing" | "waiting" | "unschedulable" | "crash_loop" | "failed" | "stopped" | "stopping" | "deleting" | "image_unavailable" | "runtime_unavailable";

export interface ServiceSummary {
  name: string;
  namespace: string;
  revision: number;
  desired: number;
  ready: number;
  status: ServiceStatus;
  restarts: number;
  ports: Array<{ name: string; port: number }>;
  waitingFor: string[];
  /** Why the service cannot run at all, e.g. its image cannot be had; null when nothing is wrong that way. */
  problem: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ReplicaView extends ReplicaRecord {
  usage: ResourceUsage | null;
  /** Each probe's verdict and latest result, from the agent (only with details). */
  probes: ProbeReport[];
  /** Where the runtime's own tools find it (a container), from the agent (only with details). */
  where?: string;
}

export interface RolloutStatusView {
  service: string;
  desired: number;
  revision: number;
  rollout: RolloutRecord | null;
  steps: Array<{ weight: number; pause: number }>;
  replicas: { to: { total: number; ready: number }; from: { total: number; ready: number } };
  weights: Record<string, number> | null;
  history: RolloutRecord[];
}

export interface TopView {
  energySource: "rapl" | "model";
  host: { utilisation: number | null; watts: number };
  /** Each node's host figures (one line per machine in `drover top`). */
  nodes: Array<{ name: string; state: string; replicas: number; utilisation: number | null; watts: number | null; source: string }>;
  services: Array<{
    name: string;
    ready: number;
    desired: number;
    point: MetricPoint | null;
    replicas: Array<{ id: string; state: string; figures: { cpuCores: number; memoryBytes: number; watts: number; joulesTotal: number } | null }>;
  }>;
}

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface PlanEntry {
  kind: "Service" | "ConfigMap" | "Secret" | "Policy" | "NodePool" | "Job" | "CronJob";
  name: string;
  action: "create" | "change" | "unchanged" | "delete";
  changes: FieldChange[];
}

/** One service in an apply's answer. */
export interface AppliedService {
  name: string;
  revision: number;
  outcome: "created" | "changed" | "unchanged";
}
