/**
 * A runtime that runs replicas: local processes now, containers next. The agent owns ports, logs
 * and state files; a driver only starts, watches, stops and measures what it started.
 */
import type { ExitInfo } from "../../store/records.js";
import type { ProbeOutcome } from "../probes/probe.js";

export interface LaunchSpec {
  replicaId: string;
  command: string[];
  workingDir: string;
  env: Record<string, string>;
  /** Where stdout and stderr go, appended. */
  logFile: string;
  limits: { cpuMillis?: number; memoryBytes?: number };
  user?: { uid?: number; gid?: number };
}

/** What a driver needs to find its replica again after drover restarts; stored as JSON. */
export interface DriverHandle {
  runtime: string;
  pid?: number;
  [key: string]: unknown;
}

export interface RunningReplica {
  handle: DriverHandle;
  pid: number | null;
  /** Settles once, when the replica has ended (its whole process group, for processes). */
  exited: Promise<ExitInfo>;
}

export interface ResourceUsage {
  cpuSeconds: number;
  memoryBytes: number;
  oomKills: number;
  /** Summed over the replica's processes, where /proc can tell. */
  openFds?: number;
  threads?: number;
  diskReadBytes?: number;
  diskWrittenBytes?: number;
  /** "cgroup" or "proc": where the figures came from. */
  source: string;
}

/** A failure before anything ran (missing program, bad working directory, no permission). */
export class LaunchError extends Error {
  constructor(message: string, readonly exitCode = 127) {
    super(message);
    this.name = "LaunchError";
  }
}

export interface Driver {
  readonly runtime: string;
  /** @throws LaunchError when the replica cannot be started at all. */
  start(spec: LaunchSpec): Promise<RunningReplica>;
  /** Re-attaches to a replica started by an earlier drover; null when it is gone. */
  adopt(handle: DriverHandle): Promise<RunningReplica | null>;
  /** Stops gracefully: `signal`, then a kill after `gracePeriodMs`. Resolves once it has ended. */
  stop(handle: DriverHandle, signal: NodeJS.Signals, gracePeriodMs: number): Promise<void>;
  /** `light`: CPU time and memory only (for periodic sampling); otherwise also fds, threads and disk IO. */
  usage(handle: DriverHandle, light?: boolean): ResourceUsage | null;
  /** Runs a command inside the replica (its environment, directory and user), for exec probes; killed at the timeout. */
  exec(handle: DriverHandle, command: string[], timeoutMs: number): Promise<ProbeOutcome>;
  /** Frees what the replica held (its cgroup) once it is removed for good; kept across restarts. */
  release(handle: DriverHandle): void;
  /** One line on what this driver can do here, for `drover doctor`. */
  describe(): string;
}
