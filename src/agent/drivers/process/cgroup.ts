/**
 * Per-replica cgroups for the process runtime: limits (CPU quota, memory, pids) and accounting.
 * Works on cgroup v2 (a delegated subtree with controllers enabled) and v1 (one hierarchy per
 * controller); where neither can be written, {@link detectCgroups} says why and drover falls
 * back to /proc accounting without limits.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

export interface CgroupLimits {
  cpuMillis?: number;
  memoryBytes?: number;
}

export interface CgroupUsage {
  cpuSeconds: number;
  memoryBytes: number;
  oomKills: number;
}

export interface ReplicaCgroup {
  /** `cgroup.procs` files a new process writes its pid into before it execs the workload. */
  procsFiles: string[];
  usage(): CgroupUsage | null;
  /** CPU time and memory usage (page cache included) from two small files: for frequent sampling. */
  cpuAndMemory(): { cpuSeconds: number; memoryBytes: number } | null;
  pids(): number[];
}

export interface CgroupSupport {
  mode: "v2" | "v1" | "none";
  /** Human words for `drover doctor`: what is available and, when degraded, why. */
  detail: string;
  controllers: string[];
  /**
   * Creates (or re-opens, after a restart of the replica or of drover) the cgroup of one replica.
   * Async: on cgroup v1 a mkdir can wait hundreds of milliseconds behind other cgroup work in the
   * kernel, and drover's event loop must not wait with it.
   */
  open(replicaId: string, limits: CgroupLimits | "unchanged", owner?: { uid: number; gid: number }): Promise<ReplicaCgroup | null>;
  /** Removes the replica's cgroup if it exists and is empty; never creates one. */
  remove(replicaId: string): void;
}

const CPU_PERIOD_US = 100_000;
const ROOT = "/sys/fs/cgroup";

export function detectCgroups(root = ROOT): CgroupSupport {
  if (process.env.DROVER_CGROUPS === "off") return none("disabled by DROVER_CGROUPS=off");
  if (fs.existsSync(path.join(root, "cgroup.controllers"))) return detectV2(root);
  const v1 = ["cpu", "cpuacct", "memory", "pids"].filter((c) => fs.existsSync(path.join(root, c, "cgroup.procs")));
  if (v1.length > 0) return detectV1(root, v1);
  return none(`no cgroup hierarchy found under ${root}`);
}

function none(detail: string): CgroupSupport {
  return { mode: "none", detail: `${detail}; CPU and memory limits are not enforced, usage comes from /proc`, controllers: [], open: async () => null, remove: () => undefined };
}

function tryMkdir(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

function readNumber(file: string): number | undefined {
  try {
    const value = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function readKeyed(file: string): Record<string, number> {
  const result: Record<string, number> = {};
  try {
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      const [key, value] = line.split(" ");
      if (key && value !== undefined) result[key] = Number(value);
    }
  } catch {
    // a missing file reads as empty: the controller is not there
  }
  return result;
}

/** "created" for a new cgroup (unlimited, default CFS period), "existed" for one to re-open. */
async function mkdirAsync(dir: string): Promise<"created" | "existed" | false> {
  try {
    await fsp.mkdir(dir);
    return "created";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EEXIST" ? "existed" : false;
  }
}

async function writeIfPresent(file: string, value: string): Promise<void> {
  if (fs.existsSync(file)) await fsp.writeFile(file, value);
}

function readPids(file: string): number[] {
  try {
    return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function removeDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // still busy (a process is exiting) or gone already; the next start re-uses or retries it
  }
}

async function chownProcs(files: string[], owner?: { uid: number; gid: number }): Promise<void> {
  if (!owner) return;
  for (const file of files) await fsp.chown(file, owner.uid, owner.gid);
}

function detectV2(root: string): CgroupSupport {
  const candidates = [path.join(root, "drover")];
  const self = /^0::(.*)$/m.exec(fs.readFileSync("/proc/self/cgroup", "utf8"))?.[1];
  if (self && self !== "/") candidates.push(path.join(root, path.dirname(self), "drover"));
  for (const base of candidates) {
    if (tryMkdir(base)) continue;
    const parent = path.dirname(base);
    const available = fs.readFileSync(path.join(parent, "cgroup.controllers"), "utf8").trim().split(/\s+/).filter(Boolean);
    const wanted = ["cpu", "memory", "pids"].filter((c) => available.includes(c));
    for (const dir of [parent, base]) {
      for (const controller of wanted) {
        try {
          fs.writeFileSync(path.join(dir, "cgroup.subtree_control"), `+${controller}`);
        } catch {
          // not delegated to us; the controller stays off and the detail says so
        }
      }
    }
    const enabled = fs.readFileSync(path.join(base, "cgroup.subtree_control"), "utf8").trim().split(/\s+/).filter(Boolean);
    const missing = ["cpu", "memory"].filter((c) => !enabled.includes(c));
    const detail = `cgroup v2 at ${base}, controllers: ${enabled.join(", ") || "none"}${missing.length ? ` (not available: ${missing.join(", ")}, so those limits are not enforced)` : ""}`;
    return {
      mode: "v2",
      detail,
      controllers: enabled,
      remove: (replicaId) => removeDir(path.join(base, replicaId)),
      async open(replicaId, limits, owner) {
        const dir = path.join(base, replicaId);
        const made = await mkdirAsync(dir);
        if (!made) return null;
        // A new cgroup is unlimited already; only limits, or a re-opened cgroup, need writes.
        if (limits !== "unchanged" && (made === "existed" || limits.memoryBytes !== undefined || limits.cpuMillis !== undefined)) {
          await writeIfPresent(path.join(dir, "memory.max"), limits.memoryBytes === undefined ? "max" : String(limits.memoryBytes));
          await writeIfPresent(path.join(dir, "cpu.max"), limits.cpuMillis === undefined ? `max ${CPU_PERIOD_US}` : `${quota(limits.cpuMillis)} ${CPU_PERIOD_US}`);
        }
        const procs = path.join(dir, "cgroup.procs");
        await chownProcs([procs], owner);
        return {
          procsFiles: [procs],
          usage: () => {
            const cpuStat = readKeyed(path.join(dir, "cpu.stat"));
            const memory = readNumber(path.join(dir, "memory.current"));
            if (cpuStat.usage_usec === undefined && memory === undefined) return null;
            // As docker stats counts it: usage less the page cache the kernel may drop at once.
            const inactive = readKeyed(path.join(dir, "memory.stat")).inactive_file ?? 0;
            return { cpuSeconds: (cpuStat.usage_usec ?? 0) / 1e6, memoryBytes: Math.max(0, (memory ?? 0) - inactive), oomKills: readKeyed(path.join(dir, "memory.events")).oom_kill ?? 0 };
          },
          cpuAndMemory: () => {
            const usec = readKeyed(path.join(dir, "cpu.stat")).usage_usec;
            const memory = readNumber(path.join(dir, "memory.current"));
            return usec === undefined || memory === undefined ? null : { cpuSeconds: usec / 1e6, memoryBytes: memory };
          },
          pids: () => readPids(procs),
        };
      },
    };
  }
  return none(`cgroup v2 is mounted but drover may not create a cgroup under ${candidates.join(" or ")} (no delegation)`);
}

function detectV1(root: string, mounted: string[]): CgroupSupport {
  // pids is left out: drover sets no pids limit, and every joined hierarchy costs one migration.
  const usable = mounted.filter((controller) => controller !== "pids" && tryMkdir(path.join(root, controller, "drover")) === undefined);
  if (usable.length === 0) return none(`cgroup v1 is mounted but ${root}/<controller>/drover cannot be created (no permission)`);
  const missing = ["cpu", "cpuacct", "memory"].filter((c) => !usable.includes(c));
  const detail = `cgroup v1 under ${root}/{${usable.join(",")}}/drover${missing.length ? ` (not writable: ${missing.join(", ")})` : ""}`;
  const dirsOf = (replicaId: string) => Object.fromEntries(usable.map((c) => [c, path.join(root, c, "drover", replicaId)]));
  return {
    mode: "v1",
    detail,
    controllers: usable,
    remove: (replicaId) => Object.values(dirsOf(replicaId)).forEach(removeDir),
    async open(replicaId, limits, owner) {
      const all = dirsOf(replicaId);
      // The cpu hierarchy is only needed to enforce a quota; accounting comes from cpuacct.
      const wantsCpu = limits !== "unchanged" && limits.cpuMillis !== undefined;
      const dirs = Object.fromEntries(Object.entries(all).filter(([c]) => c !== "cpu" || wantsCpu || fs.existsSync(all.cpu!)));
      const made = Object.fromEntries(await Promise.all(Object.entries(dirs).map(async ([c, dir]) => [c, await mkdirAsync(dir)] as const)));
      if (Object.values(made).includes(false)) return null;
      // A new cgroup is unlimited with the default CFS period; only limits, or a re-opened cgroup, need writes.
      const needsWrite = (controller: string, limit: number | undefined) => limit !== undefined || made[controller] === "existed";
      if (limits !== "unchanged" && dirs.memory && needsWrite("memory", limits.memoryBytes)) {
        await fsp.writeFile(path.join(dirs.memory, "memory.limit_in_bytes"), limits.memoryBytes === undefined ? "-1" : String(limits.memoryBytes));
      }
      if (limits !== "unchanged" && dirs.cpu && needsWrite("cpu", limits.cpuMillis)) {
        await fsp.writeFile(path.join(dirs.cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
        await fsp.writeFile(path.join(dirs.cpu, "cpu.cfs_quota_us"), limits.cpuMillis === undefined ? "-1" : String(quota(limits.cpuMillis)));
      }
      const procsFiles = Object.values(dirs).map((dir) => path.join(dir, "cgroup.procs"));
      await chownProcs(procsFiles, owner);
      const first = procsFiles[0]!;
      return {
        procsFiles,
        usage: () => {
          const cpuNs = dirs.cpuacct ? readNumber(path.join(dirs.cpuacct, "cpuacct.usage")) : undefined;
          const usage = dirs.memory ? readNumber(path.join(dirs.memory, "memory.usage_in_bytes")) : undefined;
          if (cpuNs === undefined && usage === undefined) return null;
          // As docker stats counts it: usage less the page cache the kernel may drop at once.
          const inactive = dirs.memory ? readKeyed(path.join(dirs.memory, "memory.stat")).total_inactive_file ?? 0 : 0;
          const memoryBytes = Math.max(0, (usage ?? 0) - inactive);
          const oom = dirs.memory ? readKeyed(path.join(dirs.memory, "memory.oom_control")).oom_kill ?? 0 : 0;
          return { cpuSeconds: (cpuNs ?? 0) / 1e9, memoryBytes, oomKills: oom };
        },
        cpuAndMemory: () => {
          const cpuNs = dirs.cpuacct ? readNumber(path.join(dirs.cpuacct, "cpuacct.usage")) : undefined;
          const usage = dirs.memory ? readNumber(path.join(dirs.memory, "memory.usage_in_bytes")) : undefined;
          return cpuNs === undefined || usage === undefined ? null : { cpuSeconds: cpuNs / 1e9, memoryBytes: usage };
        },
        pids: () => readPids(first),
      };
    },
  };
}

/** CFS quota in microseconds per period for a CPU limit in millicores (at least 1ms). */
function quota(cpuMillis: number): number {
  return Math.max(1000, Math.round((cpuMillis / 1000) * CPU_PERIOD_US));
}
