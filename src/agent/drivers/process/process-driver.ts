/**
 * The `process` runtime: each replica is a detached process group (its own session), so drover
 * can exit or crash without taking workloads with it, and a stop reaches every process the
 * replica forked.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { LaunchError, type Driver, type DriverHandle, type LaunchSpec, type RunningReplica } from "../driver.js";
import { detectCgroups, type CgroupSupport, type ReplicaCgroup } from "./cgroup.js";
import { execInReplica } from "./exec-in-replica.js";
import { processDetails } from "../../metrics/process-details.js";
import { isSameProcess, processTree, readStat, treeUsage } from "./proc.js";
import type { ExitInfo, ProbeOutcome, ResourceUsage } from "../../../contract/index.js";

interface ProcessHandle extends DriverHandle {
  runtime: "process";
  pid: number;
  startTime: number;
  cgroup: boolean;
  /** The cgroup's OOM-kill count when the replica started: a higher count at exit means it was OOM-killed. */
  oomKillsAtStart?: number;
}

/**
 * Joins the replica's cgroups, then execs the workload, so every process it ever forks is
 * accounted and limited. The list of cgroup.procs files comes in an env var that is removed
 * before the exec; the workload's argv passes through "$@" untouched (no shell parsing).
 */
const JOIN_CGROUP_AND_EXEC =
  'IFS=:; for f in $DROVER_CGROUP_PROCS; do echo $$ > "$f" || { echo "drover: cannot join cgroup $f" >&2; exit 126; }; done; unset IFS DROVER_CGROUP_PROCS; exec "$@"';

/** How often replicas adopted from an earlier drover are checked for exit (they are not our children). */
const ADOPTED_POLL_MS = 500;

export class ProcessDriver implements Driver {
  readonly runtime = "process";
  readonly cgroups: CgroupSupport;
  private readonly cgroupOf = new Map<string, ReplicaCgroup>();
  private readonly adopted = new Map<number, { startTime: number; handle: ProcessHandle; resolve: (exit: ExitInfo) => void }>();
  private poller: NodeJS.Timeout | undefined;

  constructor(cgroups: CgroupSupport = detectCgroups()) {
    this.cgroups = cgroups;
  }

  describe(): string {
    return `process runtime; ${this.cgroups.detail}`;
  }

  async start(spec: LaunchSpec): Promise<RunningReplica> {
    checkWorkingDir(spec.workingDir);
    const program = resolveProgram(spec.command[0]!, spec.workingDir, spec.env.PATH ?? process.env.PATH ?? "");
    checkUser(spec.user);
    const owner = spec.user?.uid !== undefined ? { uid: spec.user.uid, gid: spec.user.gid ?? spec.user.uid } : undefined;
    const cgroup = await this.cgroups.open(cgroupName(spec.replicaId), spec.limits, owner);
    const argv = [program, ...spec.command.slice(1)];
    const [file, args, env] = cgroup
      ? ["/bin/sh", ["-c", JOIN_CGROUP_AND_EXEC, "drover-replica", ...argv], { ...spec.env, DROVER_CGROUP_PROCS: cgroup.procsFiles.join(":") }]
      : [program, argv.slice(1), spec.env];
    const log = fs.openSync(spec.logFile, "a");
    try {
      const child = spawn(file, args, {
        cwd: spec.workingDir,
        env,
        detached: true,
        stdio: ["ignore", log, log],
        uid: spec.user?.uid,
        gid: spec.user?.gid ?? spec.user?.uid,
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once("spawn", () => resolve(child.pid!));
        child.once("error", (error) => reject(new LaunchError(`cannot start ${program}: ${error.message}`)));
      });
      child.unref();
      const startTime = readStat(pid)?.startTime ?? 0;
      if (cgroup) this.cgroupOf.set(spec.replicaId, cgroup);
      const oomKillsAtStart = cgroup?.usage()?.oomKills;
      const handle: ProcessHandle = { runtime: "process", pid, startTime, cgroup: cgroup !== null, replicaId: spec.replicaId, oomKillsAtStart };
      const exited = new Promise<ExitInfo>((resolve) => {
        child.once("exit", (code, signal) => {
          this.killRemnants(handle);
          resolve({ code, signal, at: Date.now(), ...this.oomKilled(handle) });
        });
      });
      return { handle, pid, exited };
    } finally {
      fs.closeSync(log);
    }
  }

  async adopt(raw: DriverHandle): Promise<RunningReplica | null> {
    const handle = raw as ProcessHandle;
    if (!isSameProcess(handle.pid, handle.startTime)) return null;
    if (handle.cgroup) {
      const cgroup = await this.cgroups.open(cgroupName(String(handle.replicaId)), "unchanged");
      if (cgroup) this.cgroupOf.set(String(handle.replicaId), cgroup);
    }
    const exited = new Promise<ExitInfo>((resolve) => {
      this.adopted.set(handle.pid, { startTime: handle.startTime, handle, resolve });
    });
    this.poller ??= setInterval(() => this.pollAdopted(), ADOPTED_POLL_MS).unref();
    return { handle, pid: handle.pid, exited };
  }

  async stop(raw: DriverHandle, signal: NodeJS.Signals, gracePeriodMs: number): Promise<void> {
    const handle = raw as ProcessHandle;
    if (!this.alive(handle)) return;
    signalGroup(handle.pid, signal);
    if (await this.waitForExit(handle, gracePeriodMs)) return;
    signalGroup(handle.pid, "SIGKILL");
    this.killRemnants(handle);
    await this.waitForExit(handle, 5_000);
  }

  async usage(raw: DriverHandle, light = false): Promise<ResourceUsage | null> {
    const handle = raw as ProcessHandle;
    const cgroup = this.cgroupOf.get(String(handle.replicaId));
    if (cgroup && light) {
      const cpuAndMemory = cgroup.cpuAndMemory();
      if (cpuAndMemory) return { ...cpuAndMemory, oomKills: 0, source: "cgroup" };
    }
    const fromCgroup = cgroup?.usage();
    if (fromCgroup) return { ...fromCgroup, ...processDetails(cgroup!.pids()), source: "cgroup" };
    const tree = processTree(handle.pid);
    const fromProc = treeUsage(tree);
    return fromProc && { ...fromProc, oomKills: 0, ...(light ? {} : processDetails(tree.map((p) => p.pid))), source: "proc" };
  }

  exec(raw: DriverHandle, command: string[], timeoutMs: number): Promise<ProbeOutcome> {
    return execInReplica((raw as ProcessHandle).pid, command, timeoutMs);
  }

  async release(raw: DriverHandle): Promise<void> {
    const id = String(raw.replicaId);
    this.cgroups.remove(cgroupName(id));
    this.cgroupOf.delete(id);
    if (raw.pid !== undefined) this.adopted.delete(raw.pid);
  }

  /** Known only with a cgroup that counts OOM kills; absent (not false) otherwise. */
  private oomKilled(handle: ProcessHandle): { oomKilled?: boolean } {
    const now = this.cgroupOf.get(String(handle.replicaId))?.usage()?.oomKills;
    if (now === undefined || handle.oomKillsAtStart === undefined) return {};
    return { oomKilled: now > handle.oomKillsAtStart };
  }

  private alive(handle: ProcessHandle): boolean {
    return isSameProcess(handle.pid, handle.startTime);
  }

  private async waitForExit(handle: ProcessHandle, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let interval = 5;
    while (this.alive(handle)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, interval));
      interval = Math.min(interval * 2, 100);
    }
    return true;
  }

  /** A replica ends with its leader, as a container ends with its PID 1: kill what it left behind. */
  private killRemnants(handle: ProcessHandle): void {
    signalGroup(handle.pid, "SIGKILL");
    for (const pid of this.cgroupOf.get(String(handle.replicaId))?.pids() ?? []) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private pollAdopted(): void {
    for (const [pid, watch] of this.adopted) {
      if (isSameProcess(pid, watch.startTime)) continue;
      this.adopted.delete(pid);
      // Not our child: the exit status went to init, so only the fact of the exit is known.
      watch.resolve({ code: null, signal: null, unknown: true, at: Date.now(), ...this.oomKilled(watch.handle) });
    }
    if (this.adopted.size === 0 && this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }
}

function cgroupName(replicaId: string): string {
  return replicaId.replace(/[^A-Za-z0-9_.-]/g, "_");
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group has no process left
  }
}

function checkWorkingDir(dir: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new LaunchError(`working_dir ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new LaunchError(`working_dir ${dir} is not a directory`);
}

/** Programs found before, by program, folder and PATH; a hit is checked again with one access(). */
const resolved = new Map<string, string>();

/** The absolute path of the program, found as execvp would, so "not found" is a clear error. */
export function resolveProgram(program: string, cwd: string, searchPath: string): string {
  const key = `${program}\0${cwd}\0${searchPath}`;
  const known = resolved.get(key);
  if (known !== undefined && isExecutable(known)) return known;
  const found = searchProgram(program, cwd, searchPath);
  resolved.set(key, found);
  return found;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchProgram(program: string, cwd: string, searchPath: string): string {
  const candidates = program.includes("/") ? [path.resolve(cwd, program)] : searchPath.split(":").filter(Boolean).map((dir) => path.join(dir, program));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  throw new LaunchError(program.includes("/") ? `command not found or not executable: ${candidates[0]}` : `command not found: ${program} (searched PATH)`);
}

function checkUser(user: LaunchSpec["user"]): void {
  if (user?.uid === undefined && user?.gid === undefined) return;
  const self = process.getuid?.();
  if (self !== 0 && (user.uid ?? self) !== self) {
    throw new LaunchError(`run_as_user ${user.uid} needs drover to run as root (it runs as uid ${self})`, 126);
  }
}
