/**
 * The only way the server reaches workloads. `drover up` runs the {@link LocalAgent} in the
 * same process; a remote agent on another machine will implement the same interface.
 */
import type { ExitInfo } from "../store/records.js";
import type { ContainerSpec, Endpoint, ImageRef, MountedFiles, ResourceUsage } from "./drivers/driver.js";
import type { HealthDefinition, ProbeReport } from "./probes/probe.js";
import type { HealthVerdict } from "./probes/replica-health.js";
import type { Route, RouteStatus } from "./router/router.js";
import type { ServiceTraffic } from "./router/traffic-stats.js";
import type { MetricsSnapshot } from "./metrics/sampler.js";

export type { Route, RouteStatus, ServiceTraffic, MetricsSnapshot, ContainerSpec, Endpoint, ImageRef };

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
  limits: { cpuMillis?: number; memoryBytes?: number };
  user?: { uid?: number; gid?: number };
  /** Probes, with ports as names of this replica's ports (or literal numbers). */
  health: HealthDefinition;
  /** For runtimes that run images: the image, the ports inside the container, isolation. */
  container?: ContainerSpec;
  /** Config maps and secrets referenced with a mount_path, as files. */
  files: MountedFiles[];
}

/** What the agent sees of a replica. */
export interface ReplicaStatus {
  id: string;
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

export interface AgentInfo {
  node: string;
  runtimes: string[];
  details: string[];
}

export interface NodeAgent {
  readonly node: string;
  /** Starts (or restarts, under the same id) a replica. Failures to launch come back as an exited status. */
  start(launch: ReplicaLaunch): Promise<ReplicaStatus>;
  /**
   * Stops gracefully: the router sends it nothing new, requests in flight finish (up to the grace
   * period), then the stop signal, then a kill after the grace period. Resolves once it has ended.
   */
  stop(id: string, signal: NodeJS.Signals, gracePeriodMs: number): Promise<void>;
  /** Forgets an ended replica: its state, its log files, its cgroup. */
  remove(id: string): Promise<void>;
  /**
   * Makes what replicas of a runtime need available before they start (pulls a container image
   * per its pull policy); resolves with why it cannot be had, or null when it can.
   */
  prepare(runtime: string, image: ImageRef): Promise<{ reason: string; message: string } | null>;
  /** Every replica this agent knows, running or ended (actual state). */
  list(): Promise<ReplicaStatus[]>;
  /** Called on every change of a replica's state or of a probe's verdict (not on every probe run). Returns an unsubscribe function. */
  watch(listener: (status: ReplicaStatus) => void): () => void;
  usage(id: string): Promise<ResourceUsage | null>;
  /** The service ports to listen on; traffic goes to the service's ready replicas. Idempotent. */
  setRoutes(routes: Route[]): Promise<RouteStatus[]>;
  /** The last samples of the host and the replicas: utilisation, power, energy. */
  metrics(): MetricsSnapshot;
  /** What the router counted (cumulative), per service and revision. */
  traffic(service?: string): ServiceTraffic[];
  tailLogs(id: string, lines: number): Promise<string[]>;
  followLogs(id: string, onData: (text: string) => void): () => void;
  info(): AgentInfo;
  /** Stops watching; never stops replicas. */
  close(): Promise<void>;
}
