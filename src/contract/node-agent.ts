/**
 * The only way the server reaches workloads. `drover up` runs the local agent in the same
 * process; `drover agent` on another machine is reached through the same interface over the wire
 * (src/cluster), so controllers do not know which they talk to.
 */
import type { MetricsSnapshot, ServiceTraffic } from "./metrics.js";
import type { ImageRef, ReplicaLaunch, ReplicaStatus, ResourceUsage } from "./replicas.js";
import type { Route, RouteStatus } from "./routes.js";

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
