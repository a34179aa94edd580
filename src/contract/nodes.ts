/** A node — a machine with an agent — as the server stores it and the CLI and dashboard show it. */

export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
  gpus: number;
}

/**
 * `initializing` until its first heartbeats, `ready` while they come on time, `not_ready` after
 * a few missed (routers stop sending it new requests), `down` after `node_down_after` without one
 * (its replicas are lost and replaced elsewhere).
 */
export type NodeState = "initializing" | "ready" | "not_ready" | "down";

/** What an agent says of its machine when it connects (and again when it changes). */
export interface NodeReport {
  name: string;
  /** Where other nodes' routers reach its replicas. */
  address: string;
  labels: Record<string, string>;
  capacity: Resources & { diskBytes: number };
  /** Capacity less what the machine keeps for itself and drover. */
  allocatable: Resources;
  gpuModel: string | null;
  /** Memory of one GPU (the first), where the node has GPUs and nvidia-smi says. */
  gpuMemoryBytes?: number | null;
  runtimes: string[];
  /** Marginal watts of one more busy core: RAPL-measured where readable, else the model's. */
  energy: { source: "rapl" | "model"; wattsPerCore: number; idleWatts: number };
  /** Ports left in its replica port range. */
  freePorts: number;
  agentVersion: string;
}

export interface NodeRecord extends NodeReport {
  state: NodeState;
  /** Why it is in its state, in words ("no heartbeat for 10.2s"). */
  stateReason: string;
  stateSince: number;
  /** Takes no new replicas (`drover node cordon`, or left so by a drain). */
  cordoned: boolean;
  /** Its replicas are being moved off (`drover node drain`). */
  draining: boolean;
  /** SHA-256 of the node's credential; null for the server's own node. */
  credentialHash: string | null;
  joinedAt: number;
  lastHeartbeatAt: number | null;
  updatedAt: number;
}

/** A node as the API shows it: the record (without its credential) and what it holds now. */
export interface NodeView extends Omit<NodeRecord, "credentialHash"> {
  /** The agent is connected now (the server's own node always is). */
  connected: boolean;
  /** Milliseconds since its last heartbeat, as of the answer. */
  heartbeatAgeMs: number | null;
  /** Replicas placed on it (not lost), and the sum of their requests. */
  replicas: number;
  requested: Resources;
  /** Host utilisation and power from its last metrics, where it sent them. */
  utilisation: number | null;
  watts: number | null;
}

/** Kept for the system and drover itself, as kubelet's system-reserved: 100m CPU and 256 MiB (at most a tenth of the memory). */
export function allocatableOf(capacity: Resources): Resources {
  return {
    cpuMillis: Math.max(0, capacity.cpuMillis - 100),
    memoryBytes: Math.max(0, capacity.memoryBytes - Math.min(256 * 1024 ** 2, capacity.memoryBytes * 0.1)),
    gpus: capacity.gpus,
  };
}
