/**
 * GPUs as nvidia-smi reports them: per device its model, memory, utilisation and power, and per
 * process its memory and SM utilisation (pmon), which the sampler attributes to replicas by
 * process group. Where nvidia-smi is absent or finds no device, GPUs are reported as absent
 * (null), never as zeros; a field a device does not support ("[N/A]") is null.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import type { GpuSample } from "../../contract/index.js";

export const GPU_QUERY = "--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu,power.draw";
export const APPS_QUERY = "--query-compute-apps=pid,gpu_uuid,used_memory";

export interface GpuProcess {
  pid: number;
  gpuUuid: string;
  memoryBytes: number;
  /** SM utilisation of this process on its GPU, 0..1, from pmon; null where not reported. */
  utilisation: number | null;
}

/** `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`. */
export function parseGpus(csv: string): GpuSample[] {
  return rows(csv).map(([index, uuid, name, total, used, utilisation, power]) => ({
    index: Number(index),
    uuid: uuid!,
    model: name!,
    memoryTotalBytes: mib(total) ?? 0,
    memoryUsedBytes: mib(used) ?? 0,
    utilisation: percent(utilisation),
    watts: number(power),
  }));
}

/** `nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits`. */
export function parseComputeApps(csv: string): Array<Omit<GpuProcess, "utilisation">> {
  return rows(csv)
    .filter((r) => /^\d+$/.test(r[0] ?? ""))
    .map(([pid, uuid, memory]) => ({ pid: Number(pid), gpuUuid: uuid!, memoryBytes: mib(memory) ?? 0 }));
}

/** `nvidia-smi pmon -c 1 -s u`: per process and GPU index, SM utilisation in percent ("-" where idle or unknown). */
export function parsePmon(text: string): Map<number, number | null> {
  const byPid = new Map<number, number | null>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.trim()) continue;
    const [, pid, , sm] = line.trim().split(/\s+/);
    if (!pid || !/^\d+$/.test(pid)) continue;
    byPid.set(Number(pid), sm === undefined || sm === "-" ? null : Number(sm) / 100);
  }
  return byPid;
}

export class GpuReader {
  /** Null once nvidia-smi was not found or saw no device: asked no more. */
  private present: boolean | null = null;

  constructor(private readonly command = process.env.DROVER_NVIDIA_SMI ?? "nvidia-smi") {}

  async read(): Promise<{ gpus: GpuSample[]; processes: GpuProcess[] } | null> {
    if (this.present === false) return null;
    const gpus = await this.run([GPU_QUERY, "--format=csv,noheader,nounits"]).then(parseGpus, () => null);
    this.present = gpus !== null && gpus.length > 0;
    if (!this.present) return null;
    const apps = await this.run([APPS_QUERY, "--format=csv,noheader,nounits"]).then(parseComputeApps, () => []);
    const pmon = await this.run(["pmon", "-c", "1", "-s", "u"]).then(parsePmon, () => new Map<number, number | null>());
    return { gpus: gpus!, processes: apps.map((a) => ({ ...a, utilisation: pmon.get(a.pid) ?? null })) };
  }

  private run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.command, args, { timeout: 5000, encoding: "utf8" }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
  }
}

/** The process group a process belongs to (a process replica's pid leads its group). */
export function processGroup(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces), from the last ')': state, ppid, pgrp.
    const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(after[2]);
  } catch {
    return null;
  }
}

function rows(csv: string): string[][] {
  return csv
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => line.split(",").map((field) => field.trim()));
}

function number(field: string | undefined): number | null {
  if (field === undefined || field === "" || field.startsWith("[")) return null;
  const value = Number(field);
  return Number.isFinite(value) ? value : null;
}

function mib(field: string | undefined): number | null {
  const value = number(field);
  return value === null ? null : value * 1024 ** 2;
}

function percent(field: string | undefined): number | null {
  const value = number(field);
  return value === null ? null : value / 100;
}
