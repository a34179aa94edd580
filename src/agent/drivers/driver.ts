/**
 * A runtime that runs replicas: local processes now, containers next. The agent owns ports, logs
 * and state files; a driver only starts, watches, stops and measures what it started.
 */
import type { ContainerSpec, Endpoint, ExitInfo, ImageRef, MountedFiles, ProbeOutcome, ResourceUsage } from "../../contract/index.js";

export interface LaunchSpec {
  replicaId: string;
  command: string[];
  workingDir: string;
  env: Record<string, string>;
  /** Where stdout and stderr go, appended. */
  logFile: string;
  limits: { cpuMillis?: number; memoryBytes?: number };
  user?: { uid?: number; gid?: number };
  /** The container to run, for runtimes that run images (absent for processes). */
  container?: ContainerSpec;
  /** Config maps and secrets handed over as files (those referenced with a mount_path), each staged in `folder` by the agent. */
  files: Array<MountedFiles & { folder: string }>;
  /** Node-local volume folders and where a container sees each. */
  volumes: Array<{ folder: string; mountPath?: string }>;
  /** Host ports by port name, chosen by the agent (containers publish theirs on them). */
  hostPorts: Record<string, number>;
  /** The address host ports are published on: 127.0.0.1 on one machine, the node's address in a cluster (other nodes' routers reach them there). */
  publishHost: string;
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
  /**
   * Where probes and the router reach the replica, when not at its host ports on 127.0.0.1: a
   * container's own address and ports (its published ports pass through a userland proxy that
   * accepts connections even when nothing listens behind it).
   */
  endpoint?: Endpoint;
}



/** A failure before anything ran (missing program, bad working directory, no permission). */
export class LaunchError extends Error {
  constructor(
    message: string,
    readonly exitCode = 127,
    /** A word for the kind of failure the server can act on, e.g. "image_unavailable". */
    readonly reason?: string,
  ) {
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
  usage(handle: DriverHandle, light?: boolean): Promise<ResourceUsage | null>;
  /** Runs a command inside the replica (its environment, directory and user), for exec probes; killed at the timeout. */
  exec(handle: DriverHandle, command: string[], timeoutMs: number): Promise<ProbeOutcome>;
  /** Frees what the replica held (its cgroup, its container) once it is removed for good; kept across restarts. */
  release(handle: DriverHandle): Promise<void>;
  /**
   * Makes what a replica needs available before any starts (a container image), so that a
   * missing one is reported at once. @throws LaunchError
   */
  prepare?(image: ImageRef): Promise<void>;
  /** What an operator needs to find the replica in the runtime's own tools (e.g. the container), if anything beyond its pid. */
  where?(handle: DriverHandle): string;
  /** One line on what this driver can do here, for `drover doctor`. */
  describe(): string;
}
