/**
 * The only way the server reaches workloads. `drover up` runs the local agent in the same
 * process; `drover agent` on another machine is reached through the same interface over the wire
 * (src/cluster), so controllers do not know which they talk to.
 */
import type { MetricsSnapshot, ServiceTraffic } from "./metrics.js";
import type { ImageRef, ReplicaLaunch, ReplicaStatus, ResourceUsage } from "./replicas.js";
import type { Route, RouteStatus } from "./routes.js";
import type { NodeRecord, NodeState } from "./nodes.js";

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
  /** Deletes a volume's folder on `node` (no replica may be using it: the server checks). */
  removeVolume(key: string, node: string): Promise<void>;
  /** Bytes each volume holds on `node`, by key (absent: the node cannot be asked now). */
  volumeUsage(keys: string[], node: string): Promise<Record<string, number>>;
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

/**
 * The nodes behind a NodeAgent that spans several (the server's fleet): what the scheduler places
 * on, and where each replica is to start.
 */
export interface NodeDirectory {
  /**
   * Whether replicas' requests must fit in a node's allocatable. False on one machine (no
   * --cluster-listen): there drover never refused a service for its requests, and still does not.
   */
  readonly enforcesRequests: boolean;
  /** Every node the server knows, with its state, labels, capacity and what it reported last. */
  nodes(): NodeRecord[];
  /** Which node a replica starts on; called before `start` for a replica new to that node. */
  assign(replica: string, node: string): void;
  /** The node a replica runs on (as reported, else as assigned). */
  nodeOf(replica: string): string | undefined;
  /** Whether its agent is connected, when it last sent a heartbeat, and its last metrics and router counts. */
  liveness(node: string): { connected: boolean; lastBeatAt: number | null; metrics: MetricsSnapshot | null; traffic: ServiceTraffic[] };
  /** Changes what users set on a node (cordon, drain, labels); undefined when there is no such node. */
  updateNode(name: string, patch: Partial<Pick<NodeRecord, "cordoned" | "draining" | "labels">>): Promise<NodeRecord | undefined>;
  /** Forgets a node: its credential stops working and its connection is closed at once. */
  removeNode(name: string): Promise<boolean>;
  /** Called when a node's state changes (ready, not_ready, down), joins, or is removed (`state` null). */
  onNodeChange(listener: (node: string, state: NodeState | null, previous: NodeState | null) => void): () => void;
}
