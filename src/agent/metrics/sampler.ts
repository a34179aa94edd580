/**
 * Samples the host and every running replica on an interval (DROVER_METRICS_INTERVAL, default
 * 5 s) and keeps what the last samples say: utilisation, power and energy for the host and per
 * replica. Energy counters only grow.
 */
import { modelFromEnv, modelWatts, RaplMeter, raplDomains } from "./energy.js";
import { cpuUtilisation, readHost } from "./host.js";
import type { GpuSample, HostSample, MetricsSnapshot, ReplicaEnergy, ReplicaGpu, ResourceUsage } from "../../contract/index.js";
import { GpuReader, processGroup, type GpuProcess } from "./gpus.js";


export class MetricsSampler {
  private timer: NodeJS.Timeout | undefined;
  private host: HostSample | null = null;
  private utilisation: number | null = null;
  private watts = 0;
  private joules = 0;
  private readonly rapl: RaplMeter | null;
  private readonly model = modelFromEnv();
  private readonly replicaCpu = new Map<string, number>();
  private readonly replicas = new Map<string, ReplicaEnergy>();
  private running = false;
  private gpus: GpuSample[] | null = null;
  private readonly gpuReader = new GpuReader();

  constructor(
    private readonly statePath: string,
    /** Each running replica's usage, and the pid that leads its process group (GPU processes are matched by group). */
    private readonly usageOf: () => Promise<Array<{ id: string; usage: ResourceUsage | null; pid?: number | null }>>,
    readonly intervalMs = intervalFromEnv(),
  ) {
    const domains = raplDomains();
    this.rapl = domains.length ? new RaplMeter(domains) : null;
    this.rapl?.read();
  }

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  snapshot(): MetricsSnapshot {
    return {
      intervalMs: this.intervalMs,
      host: this.host,
      utilisation: this.utilisation,
      energy: { source: this.rapl ? "rapl" : "model", watts: this.watts, joulesTotal: this.joules, model: this.rapl ? null : this.model },
      replicas: this.replicas,
      gpus: this.gpus,
    };
  }

  private async sample(): Promise<void> {
    if (this.running) return; // never two samples at once
    this.running = true;
    try {
      const before = this.host;
      const host = readHost(this.statePath);
      const seconds = before ? (host.at - before.at) / 1000 : 0;
      this.utilisation = cpuUtilisation(before ?? undefined, host);
      this.host = host;
      if (seconds <= 0 || this.utilisation === null) return;
      let cpuWatts: number;
      if (this.rapl) {
        const joules = this.rapl.read();
        this.watts = (joules - this.joules) / seconds;
        this.joules = joules;
        cpuWatts = this.watts;
      } else {
        const usedMemory = host.memory.totalBytes - host.memory.availableBytes;
        const watts = modelWatts(this.model, host.cores, this.utilisation, usedMemory);
        this.watts = watts.cpu + watts.memory;
        this.joules += this.watts * seconds;
        cpuWatts = watts.cpu;
      }
      const hostBusySeconds = this.utilisation * host.cores * seconds;
      const gpuReading = await this.gpuReader.read();
      this.gpus = gpuReading?.gpus ?? null;
      const seen = new Set<string>();
      for (const { id, usage, pid } of await this.usageOf()) {
        if (!usage) continue;
        seen.add(id);
        const previous = this.replicaCpu.get(id);
        this.replicaCpu.set(id, usage.cpuSeconds);
        if (previous === undefined) continue;
        const cpuSeconds = Math.max(0, usage.cpuSeconds - previous);
        // Scaphandre's attribution: the replica's share of the host's busy CPU time, plus its memory.
        const share = hostBusySeconds > 0 ? Math.min(1, cpuSeconds / hostBusySeconds) : 0;
        const gpu = gpuReading && pid ? replicaGpu(pid, gpuReading.gpus, gpuReading.processes) : null;
        const watts = cpuWatts * share + (usage.memoryBytes / 1e9) * this.model.wattsPerGb + (gpu?.watts ?? 0);
        const entry = this.replicas.get(id) ?? { cpuCores: 0, memoryBytes: 0, watts: 0, joulesTotal: 0 };
        this.replicas.set(id, { cpuCores: cpuSeconds / seconds, memoryBytes: usage.memoryBytes, watts, joulesTotal: entry.joulesTotal + watts * seconds, gpu });
      }
      for (const id of this.replicas.keys()) if (!seen.has(id)) this.replicas.delete(id);
      for (const id of this.replicaCpu.keys()) if (!seen.has(id)) this.replicaCpu.delete(id);
    } finally {
      this.running = false;
    }
  }
}

/**
 * The replica's GPU processes (those in its process group): their memory, their SM utilisation,
 * and each GPU's power shared by utilisation among the processes on it. Null when it uses none.
 */
export function replicaGpu(group: number, gpus: GpuSample[], processes: GpuProcess[], groupOf: (pid: number) => number | null = processGroup): ReplicaGpu | null {
  const mine = processes.filter((p) => p.pid === group || groupOf(p.pid) === group);
  if (mine.length === 0) return null;
  let watts: number | null = null;
  for (const process of mine) {
    const gpu = gpus.find((g) => g.uuid === process.gpuUuid);
    const total = processes.filter((p) => p.gpuUuid === process.gpuUuid).reduce((sum, p) => sum + (p.utilisation ?? 0), 0);
    if (gpu?.watts === null || gpu?.watts === undefined || process.utilisation === null || total === 0) continue;
    watts = (watts ?? 0) + gpu.watts * (process.utilisation / total);
  }
  const utilisations = mine.map((p) => p.utilisation).filter((u): u is number => u !== null);
  return { memoryBytes: mine.reduce((sum, p) => sum + p.memoryBytes, 0), utilisation: utilisations.length ? utilisations.reduce((a, b) => a + b, 0) : null, watts };
}

function intervalFromEnv(): number {
  const value = Number(process.env.DROVER_METRICS_INTERVAL_MS ?? 5_000);
  return Number.isFinite(value) && value >= 100 ? value : 5_000;
}
