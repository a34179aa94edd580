/**
 * What this machine offers the scheduler: capacity (CPU, memory, GPUs by count and model where
 * nvidia-smi answers, disk), what is left for replicas after what the system keeps, runtimes, and
 * the marginal watts of one more busy core.
 */
import fs from "node:fs";
import os from "node:os";
import { allocatableOf, type NodeReport } from "../contract/index.js";
import type { LocalAgent } from "./local-agent.js";
import { modelFromEnv } from "./metrics/energy.js";
import { GpuReader } from "./metrics/gpus.js";


export const AGENT_VERSION = "0.1.0";

export interface NodeIdentity {
  name: string;
  address: string;
  labels: Record<string, string>;
  /** Given by a node pool: the machine type's size, which the node reports instead of the host's. */
  capacity?: { cpuMillis: number; memoryBytes: number; gpus: number };
}

export async function nodeReport(agent: LocalAgent, identity: NodeIdentity, home: string): Promise<NodeReport> {
  const detected = await detectGpus();
  const gpus = identity.capacity ? { count: identity.capacity.gpus, model: identity.capacity.gpus > 0 ? detected.model : null, memoryBytes: identity.capacity.gpus > 0 ? detected.memoryBytes : null } : detected;
  const cpuMillis = identity.capacity?.cpuMillis ?? os.availableParallelism() * 1000;
  const memoryBytes = identity.capacity?.memoryBytes ?? os.totalmem();
  const model = modelFromEnv();
  const energy = agent.metrics().energy;
  return {
    name: identity.name,
    address: identity.address,
    labels: { "drover.dev/hostname": os.hostname(), "drover.dev/arch": os.arch(), "drover.dev/os": os.platform(), ...(gpus.model ? { "drover.dev/gpu-model": gpus.model } : {}), ...identity.labels },
    capacity: { cpuMillis, memoryBytes, gpus: gpus.count, diskBytes: diskBytes(home) },
    allocatable: allocatableOf({ cpuMillis, memoryBytes, gpus: gpus.count }),
    gpuModel: gpus.model,
    gpuMemoryBytes: gpus.memoryBytes,
    runtimes: agent.info().runtimes,
    // The model's slope per core; RAPL-measured hosts say so through `source`.
    energy: { source: energy.source, wattsPerCore: model.maxWattsPerCpu - model.minWattsPerCpu, idleWatts: (cpuMillis / 1000) * model.minWattsPerCpu + (memoryBytes / 1e9) * model.wattsPerGb },
    freePorts: agent.freePorts(),
    agentVersion: AGENT_VERSION,
  };
}

/** The first non-loopback IPv4 address: where other nodes reach this one unless told otherwise. */
export function defaultAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) if (i.family === "IPv4" && !i.internal) return i.address;
  return "127.0.0.1";
}

/** A node name from the host name: lowercase letters, digits, '-' and '.'. */
export function defaultNodeName(): string {
  return os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, 63) || "node";
}

function diskBytes(home: string): number {
  try {
    const stats = fs.statfsSync(home);
    return stats.blocks * stats.bsize;
  } catch {
    return 0;
  }
}

/** GPUs by count, model and memory of the first, where nvidia-smi answers; none otherwise (absent, not zero memory). */
async function detectGpus(): Promise<{ count: number; model: string | null; memoryBytes: number | null }> {
  const gpus = (await new GpuReader().read())?.gpus ?? [];
  return { count: gpus.length, model: gpus[0]?.model ?? null, memoryBytes: gpus[0]?.memoryTotalBytes ?? null };
}
