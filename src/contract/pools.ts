/** Node pools and their instances as the store keeps them and the API, CLI and dashboard show them. */
import type { MachineType, NodePoolDocument } from "../spec/index.js";

export interface PoolRecord {
  name: string;
  /** The applied `kind: NodePool` document, normalised. */
  document: NodePoolDocument;
  hash: string;
  version: number;
  /** The size asked for by `drover pool scale` or the cluster autoscaler; null: `min`. */
  desired: number | null;
  /** Why the pool cannot grow (its provider's catalog failed, the machine type is unknown…); null when it can. */
  problem: string | null;
  /** `drover pool rm`: its instances are drained and terminated, then the pool goes. */
  deleting: boolean;
  updatedAt: number;
}

/**
 * An instance's life. `provisioning` is recorded before the provider is asked (the intent that
 * makes a crash between "create" and "store" recoverable); `failed` and `lost` are the two ways it
 * goes wrong: it never became a node in time, or it stopped answering. `archived` instances are
 * history only.
 */
export type InstanceState = "provisioning" | "booting" | "joining" | "ready" | "draining" | "terminating" | "terminated" | "archived" | "failed" | "lost";

export const LIVE_INSTANCE_STATES: readonly InstanceState[] = ["provisioning", "booting", "joining", "ready", "draining", "lost"];

export interface InstanceRecord {
  /** Also its node's name: `<pool>-<6 hex digits>`. */
  id: string;
  pool: string;
  machine: MachineType;
  state: InstanceState;
  stateReason: string;
  stateSince: number;
  /** What the provider calls it; null until its create answered. */
  providerId: string | null;
  address: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface InstanceTransition {
  id: number;
  instance: string;
  pool: string;
  from: InstanceState | null;
  to: InstanceState;
  at: number;
  reason: string;
}

/** A pool as the API shows it: its record, its instances, and the nodes they became. */
export interface PoolView {
  name: string;
  /** This cluster's id, with which providers tag its instances (the local provider's namespaces are drvp-<cluster>-<instance>). */
  cluster: string;
  provider: string;
  min: number;
  max: number;
  desired: number;
  /** The machine type's size where an instance shows it (its name always in machineName). */
  machine: MachineType | null;
  machineName: string;
  optimize: "cost" | "energy";
  autoscale: boolean;
  consolidation: boolean;
  problem: string | null;
  deleting: boolean;
  /** Instances per state, archived ones left out. */
  counts: Partial<Record<InstanceState, number>>;
  instances: InstanceView[];
  updatedAt: number;
}

export interface InstanceView extends InstanceRecord {
  /** Its node's state, where it joined. */
  nodeState: string | null;
  replicas: number;
  history: InstanceTransition[];
}
