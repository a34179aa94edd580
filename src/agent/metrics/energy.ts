/**
 * Power and energy: measured from RAPL (powercap sysfs) where it can be read, otherwise
 * estimated with a linear utilisation model, P = vcpus × (W_min + util × (W_max − W_min)) +
 * memory_GB × W_mem, with the Cloud Carbon Footprint coefficients as defaults. A replica's
 * share is its part of the host's CPU time plus its part of memory (as Scaphandre attributes).
 * Every figure says where it came from: `rapl` or `model`.
 */
import fs from "node:fs";
import path from "node:path";
import type { EnergyModel } from "../../contract/index.js";


/** Cloud Carbon Footprint's averages for cloud compute (per vCPU) and memory (per GB). */
export const DEFAULT_MODEL: EnergyModel = { minWattsPerCpu: 0.74, maxWattsPerCpu: 3.5, wattsPerGb: 0.392 };

export function modelFromEnv(env = process.env): EnergyModel {
  const number = (name: string, fallback: number) => (env[name] !== undefined && Number.isFinite(Number(env[name])) ? Number(env[name]) : fallback);
  return {
    minWattsPerCpu: number("DROVER_ENERGY_MIN_WATTS_PER_CPU", DEFAULT_MODEL.minWattsPerCpu),
    maxWattsPerCpu: number("DROVER_ENERGY_MAX_WATTS_PER_CPU", DEFAULT_MODEL.maxWattsPerCpu),
    wattsPerGb: number("DROVER_ENERGY_WATTS_PER_GB", DEFAULT_MODEL.wattsPerGb),
  };
}

export function modelWatts(model: EnergyModel, cpus: number, utilisation: number, memoryBytes: number): { cpu: number; memory: number } {
  return { cpu: cpus * (model.minWattsPerCpu + utilisation * (model.maxWattsPerCpu - model.minWattsPerCpu)), memory: (memoryBytes / 1e9) * model.wattsPerGb };
}

/** The package-level RAPL domains that can be read (reading energy_uj needs root on most kernels). */
export function raplDomains(root = "/sys/class/powercap"): string[] {
  try {
    return fs
      .readdirSync(root)
      .filter((name) => /^intel-rapl:\d+$/.test(name))
      .map((name) => path.join(root, name))
      .filter((dir) => {
        try {
          fs.readFileSync(path.join(dir, "energy_uj"), "utf8");
          return true;
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** Reads RAPL counters and turns them into joules since the first reading, across counter wrap-around. */
export class RaplMeter {
  private last = new Map<string, number>();
  private joules = 0;

  constructor(private readonly domains: string[]) {}

  /** Joules since the meter started. */
  read(): number {
    for (const dir of this.domains) {
      const now = Number(fs.readFileSync(path.join(dir, "energy_uj"), "utf8"));
      const before = this.last.get(dir);
      if (before !== undefined) {
        const range = Number(fs.readFileSync(path.join(dir, "max_energy_range_uj"), "utf8"));
        this.joules += (now >= before ? now - before : now + range - before) / 1e6;
      }
      this.last.set(dir, now);
    }
    return this.joules;
  }
}
