/**
 * The machine's own figures, read from /proc and statfs — no process spawned per sample:
 * CPU time per core and mode, memory, load, disk IO, network bytes, and the free space where
 * drover keeps its state.
 */
import fs from "node:fs";
import os from "node:os";
import { CPU_MODES, type CpuMode, type HostSample } from "../../contract/index.js";

/** Linux's USER_HZ. */
const TICKS_PER_SECOND = 100;


export function readHost(statePath: string): HostSample {
  return {
    at: Date.now(),
    cpu: parseCpu(read("/proc/stat")),
    cores: os.cpus().length,
    memory: parseMemory(read("/proc/meminfo")),
    load: os.loadavg() as [number, number, number],
    disks: parseDisks(read("/proc/diskstats")),
    network: parseNetwork(read("/proc/net/dev")),
    filesystem: filesystem(statePath),
  };
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

export function parseCpu(text: string): HostSample["cpu"] {
  const cpu: HostSample["cpu"] = {};
  for (const line of text.split("\n")) {
    const match = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!match) continue;
    const ticks = match[2]!.trim().split(/\s+/).map(Number);
    cpu[match[1] === "" ? "all" : `cpu${match[1]}`] = Object.fromEntries(CPU_MODES.map((mode, i) => [mode, (ticks[i] ?? 0) / TICKS_PER_SECOND])) as Record<CpuMode, number>;
  }
  return cpu;
}

export function parseMemory(text: string): HostSample["memory"] {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { totalBytes: kb("MemTotal"), availableBytes: kb("MemAvailable") };
}

/** Whole disks only (partitions and virtual devices would count the same bytes twice). */
export function parseDisks(text: string): HostSample["disks"] {
  const disks: HostSample["disks"] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const device = f[2];
    if (!device || /^(loop|ram|dm-|sr)/.test(device) || /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+)\d+$/.test(device) || /^nvme\d+n\d+p\d+$/.test(device)) continue;
    // Fields 6 and 10: sectors read and written, 512 bytes each whatever the device's block size.
    disks.push({ device, readBytes: Number(f[5]) * 512, writtenBytes: Number(f[9]) * 512 });
  }
  return disks;
}

export function parseNetwork(text: string): HostSample["network"] {
  const interfaces: HostSample["network"] = [];
  for (const line of text.split("\n").slice(2)) {
    const match = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!match) continue;
    const f = match[2]!.trim().split(/\s+/).map(Number);
    interfaces.push({ interface: match[1]!, receivedBytes: f[0] ?? 0, transmittedBytes: f[8] ?? 0 });
  }
  return interfaces;
}

function filesystem(statePath: string): HostSample["filesystem"] {
  try {
    const stats = fs.statfsSync(statePath);
    return { path: statePath, sizeBytes: stats.blocks * stats.bsize, freeBytes: stats.bavail * stats.bsize };
  } catch {
    return null;
  }
}

/** Busy share of all cores between two samples (0..1), or null for the first. */
export function cpuUtilisation(before: HostSample | undefined, after: HostSample): number | null {
  const a = before?.cpu.all;
  const b = after.cpu.all;
  if (!a || !b) return null;
  const total = CPU_MODES.reduce((sum, mode) => sum + (b[mode] - a[mode]), 0);
  const idle = b.idle - a.idle + (b.iowait - a.iowait);
  return total > 0 ? Math.min(1, Math.max(0, (total - idle) / total)) : null;
}
