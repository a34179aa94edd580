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

export interface ReplicaEnergy {
  /** Share of one core over the last interval (1 = a whole core). */
  cpuCores: number;
  /** Memory at the last sample (cgroup usage including page cache, or resident set). */
  memoryBytes: number;
  watts: number;
  joulesTotal: number;
}

export interface MetricsSnapshot {
  intervalMs: number;
  host: HostSample | null;
  /** Busy share of all cores over the last interval. */
  utilisation: number | null;
  energy: { source: "rapl" | "model"; watts: number; joulesTotal: number; model: EnergyModel | null };
  replicas: Map<string, ReplicaEnergy>;
}
