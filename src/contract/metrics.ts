/** What an agent measures and reports: the router's traffic counters, host samples, power and energy. */

export interface RevisionTraffic {
  revision: number;
  requests: number;
  /** By class: "1xx".."5xx"; answers the router made itself (no replica reachable) count as 5xx and in `proxyErrors`. */
  statuses: Record<string, number>;
  proxyErrors: number;
  /** Cumulative-free counts per bucket of LATENCY_BUCKETS_MS, plus one for +Inf. */
  latencyBuckets: number[];
  latencySumMs: number;
  bytesIn: number;
  bytesOut: number;
  /** TCP routes: connections instead of requests. */
  connections: number;
}

export interface ServiceTraffic {
  service: string;
  revisions: RevisionTraffic[];
}

export const CPU_MODES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
export type CpuMode = (typeof CPU_MODES)[number];


export interface HostSample {
  at: number;
  /** Seconds per mode, per core ("cpu0"…) and for the whole machine ("all"). */
  cpu: Record<string, Record<CpuMode, number>>;
  cores: number;
  memory: { totalBytes: number; availableBytes: number };
  load: [number, number, number];
  disks: Array<{ device: string; readBytes: number; writtenBytes: number }>;
  network: Array<{ interface: string; receivedBytes: number; transmittedBytes: number }>;
  filesystem: { path: string; sizeBytes: number; freeBytes: number } | null;
}

export interface EnergyModel {
  /** Watts per vCPU idle and at full load; watts per GB of memory. */
  minWattsPerCpu: number;
  maxWattsPerCpu: number;
  wattsPerGb: number;
}

/** One GPU as nvidia-smi reports it; a field the device does not report is null. */
export interface GpuSample {
  index: number;
  uuid: string;
  model: string;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  /** 0..1 */
  utilisation: number | null;
  watts: number | null;
}

/** A replica's share of the GPUs: memory its processes hold, SM utilisation, and power attributed by that utilisation. */
export interface ReplicaGpu {
  memoryBytes: number;
  utilisation: number | null;
  watts: number | null;
}

export interface ReplicaEnergy {
  /** Share of one core over the last interval (1 = a whole core). */
  cpuCores: number;
  /** Memory at the last sample (cgroup usage including page cache, or resident set). */
  memoryBytes: number;
  watts: number;
  joulesTotal: number;
  /** Absent (undefined or null) where the node has no GPU or the replica uses none. */
  gpu?: ReplicaGpu | null;
}

export interface MetricsSnapshot {
  intervalMs: number;
  host: HostSample | null;
  /** Busy share of all cores over the last interval. */
  utilisation: number | null;
  energy: { source: "rapl" | "model"; watts: number; joulesTotal: number; model: EnergyModel | null };
  replicas: Map<string, ReplicaEnergy>;
  /** The node's GPUs; null where there are none or nvidia-smi is absent (never zeros for absent GPUs). */
  gpus?: GpuSample[] | null;
}
