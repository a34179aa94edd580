/** A replica as it crosses the server/agent boundary: how to start it, and what the agent sees of it. */
import type { HealthDefinition, ProbeReport } from "./probes.js";

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** True when the exit is known only as "gone" (the process ended while drover was not its parent). */
  unknown?: boolean;
  /** True when the kernel's OOM killer ended it (known where a cgroup counts OOM kills). */
  oomKilled?: boolean;
  /** Why it never ran, when it could not be started at all (e.g. "image_unavailable"). */
  reason?: string;
  at: number;
}

/** What a container runtime needs beyond a process: the image, its ports, isolation. */
export interface ContainerSpec {
  /** repository:tag */
  image: string;
  pullPolicy: "Always" | "IfNotPresent" | "Never";
  /** The ports the workload listens on inside its container, by name. */
  ports: Array<{ name: string; port: number; protocol: "http" | "tcp" | "udp" }>;
  /** Replaces the image's command when set. */
  command?: string[];
  labels: Record<string, string>;
  requests: { cpuMillis?: number; memoryBytes?: number };
  gpus?: number;
  capabilities: { add: string[]; drop: string[] };
  readOnlyRootFilesystem: boolean;
  privileged: boolean;
  noNewPrivileges: boolean;
  stopSignal: NodeJS.Signals;
}

/** One config map or secret as a folder of files (a file per key). */
export interface MountedFiles {
  /** The object's name (without namespace), for DROVER_MOUNT_<NAME>. */
  name: string;
  /** Where a container sees the folder. */
  mountPath: string;
  files: Record<string, string>;
  secret: boolean;
}

export type ImageRef = Pick<ContainerSpec, "image" | "pullPolicy">;

export interface Endpoint {
  host: string;
  ports: Record<string, number>;
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
  networkReceivedBytes?: number;
  networkSentBytes?: number;
  /** "cgroup", "proc" or "docker": where the figures came from. */
  source: string;
}

export interface HealthVerdict {
  ready: boolean;
  /** Set when the startup or liveness probe has failed past its threshold: the replica should be replaced. */
  failing: { probe: "startup" | "liveness"; message: string } | null;
}

export interface ReplicaLaunch {
  id: string;
  service: string;
  revision: number;
  runtime: string;
  command: string[];
  workingDir: string;
  /** Without the port variables: the agent adds PORT and DROVER_PORT_<NAME> once it has chosen ports. */
  env: Record<string, string>;
  portNames: string[];
  /** Ports the replica had before (a restart keeps them when they are still free). */
  preferredPorts: Record<string, number>;
  /** Ports the replica binds on its node as they are (a process's target_port), not chosen from the range. */
  fixedPorts?: Record<string, number>;
  limits: { cpuMillis?: number; memoryBytes?: number };
  user?: { uid?: number; gid?: number };
  /** Probes, with ports as names of this replica's ports (or literal numbers). */
  health: HealthDefinition;
  /** For runtimes that run images: the image, the ports inside the container, isolation. */
  container?: ContainerSpec;
  /** Config maps and secrets referenced with a mount_path, as files. */
  files: MountedFiles[];
  /** Node-local volumes by key (`namespace/service/name[-ordinal]`): kept on the node after the replica. */
  volumes?: Array<{ name: string; key: string; mountPath?: string }>;
}

/** What the agent sees of a replica. */
export interface ReplicaStatus {
  id: string;
  /** The node it runs on (an agent stamps its own name on what it reports). */
  node?: string;
  service: string;
  revision: number;
  /**
   * `running`: alive, not ready yet; `ready`: takes traffic (readiness probe passing, or without
   * one, its first port accepts); `unready`: was ready, its readiness probe now fails; `exited`.
   */
  state: "running" | "ready" | "unready" | "exited";
  pid: number | null;
  /** Host ports by name (a container's are published on 127.0.0.1). */
  ports: Record<string, number>;
  /** Where probes and the router reach it when not at `ports` on 127.0.0.1 (a container's address). */
  endpoint?: Endpoint;
  startedAt: number;
  exit: ExitInfo | null;
  /** Where the runtime's own tools find it, e.g. "container 3f2a… (drover-…)"; absent for processes. */
  where?: string;
  /** Why the state is what it is, in words (e.g. "command not found: nod"). */
  message: string;
  /** Each probe's verdict and latest result (latest as of the call to `list`). */
  probes: ProbeReport[];
  /** The startup or liveness probe has failed past its threshold: the replica should be replaced. */
  failing: HealthVerdict["failing"];
}

