/**
 * Every node's agent behind one NodeAgent: the server's own (in-process) and those that dialled
 * in. Calls about a replica go to the node it runs on; reads are the union of all nodes; routes go
 * to every node with the ready replicas of the other nodes added (the routing mesh). Node states
 * follow heartbeats (node-health.ts); controllers see a node's change through `onNodeChange`.
 * With several servers on one store only the leader's fleet is active (agents dial the leader);
 * a standby's fleet holds no agents and reads node records from the store for the API.
 */
import { type AgentInfo, type EventInput, type ImageRef, type MetricsSnapshot, type NodeAgent, type NodeDirectory, type NodeRecord, type NodeReport, type NodeState, type ReplicaLaunch, type ReplicaStatus, type ResourceUsage, type Route, type RouteStatus, type ServiceTraffic, sumTraffic } from "../contract/index.js";
import type { Store } from "../store/store.js";
import { meshRoutes, type ReadyReplica } from "./mesh.js";
import { DEFAULT_HEARTBEATS, nodeState, onHeartbeat, type HeartbeatSettings, type HeartbeatView } from "./node-health.js";

const CHECK_MS = 250;
/** How often a standby re-reads the nodes from the store. */
const STANDBY_REFRESH_MS = 2_000;

interface Member {
  agent: NodeAgent;
  unwatch: () => void;
}

export class Fleet implements NodeAgent, NodeDirectory {
  private readonly members = new Map<string, Member>();
  private readonly records = new Map<string, NodeRecord>();
  private readonly beats = new Map<string, HeartbeatView>();
  private readonly assigned = new Map<string, string>();
  private readonly listeners = new Set<(status: ReplicaStatus) => void>();
  private readonly nodeListeners = new Set<(node: string, state: NodeState | null, previous: NodeState | null) => void>();
  /** Replicas being stopped: no other node's router sends them anything new. */
  private readonly stopping = new Set<string>();
  private lastRoutes: Route[] = [];
  private runningPush: Promise<unknown> = Promise.resolve();
  private queuedPush: Promise<RouteStatus[]> | null = null;
  private readonly timer: NodeJS.Timeout;
  private activeNow: boolean;
  private refreshedAt = 0;

  private constructor(
    /** Where the fleet's own judgments go (node states, registrations): the leader's fenced store. */
    private readonly store: Store,
    /** Where users' changes to nodes go (cordon, labels, rm): any server takes them. */
    private readonly userStore: Store,
    /** The server's own node, in-process (null for a server that runs no workloads). */
    private readonly local: NodeAgent | null,
    private readonly emit: (event: EventInput) => Promise<unknown>,
    readonly settings: HeartbeatSettings,
    private readonly now: () => number,
    readonly enforcesRequests: boolean,
    active: boolean,
  ) {
    this.activeNow = active;
    this.timer = setInterval(() => void this.checkStates().catch(() => undefined), CHECK_MS).unref();
  }

  /** `active: false`: a standby server's fleet (see {@link activate}). */
  static async open(store: Store, local: { agent: NodeAgent; report: NodeReport } | null, emit: (event: EventInput) => Promise<unknown>, options: { heartbeats?: HeartbeatSettings; clustered: boolean; now?: () => number; active?: boolean; userStore?: Store }): Promise<Fleet> {
    const fleet = new Fleet(store, options.userStore ?? store, local?.agent ?? null, emit, options.heartbeats ?? DEFAULT_HEARTBEATS, options.now ?? Date.now, options.clustered, options.active ?? true);
    await fleet.loadRecords();
    if (local) {
      // The server's own node is registered by the server itself, leading or not (its judgments are the leader's).
      const record = await fleet.register(local.report, null, fleet.records.get(local.report.name), fleet.userStore);
      // The server's own node runs in this process: it is ready as soon as the server is, with no heartbeats to wait for.
      const now = fleet.now();
      const ready: NodeRecord = { ...record, state: "ready", stateReason: "this server's own node", stateSince: record.state === "ready" ? record.stateSince : now, lastHeartbeatAt: now, updatedAt: now };
      fleet.records.set(ready.name, ready);
      fleet.beats.set(ready.name, { state: "ready", lastBeatAt: now, beatsOnTime: fleet.settings.readyAfterBeats });
      await fleet.userStore.putNode(ready);
      fleet.attach(local.report.name, local.agent);
    }
    return fleet;
  }

  get node(): string {
    return this.local?.node ?? "";
  }

  /** Whether agents are taken and node states judged here (this server leads). */
  get active(): boolean {
    return this.activeNow;
  }

  /**
   * This server leads now: node records are read afresh (another leader kept them until now) and
   * every node gets the grace of a new one to dial in before its heartbeats count as missed.
   */
  async activate(): Promise<void> {
    await this.loadRecords();
    this.activeNow = true;
  }

  /** This server leads no more: agents are let go (they dial the next server) and nothing is judged here. */
  async deactivate(): Promise<void> {
    this.activeNow = false;
    const remote = [...this.members].filter(([, m]) => m.agent !== this.local);
    for (const [node, member] of remote) {
      this.detach(node, member.agent);
      await member.agent.close();
    }
  }

  /** Users' changes to nodes (cordon, drain, labels) made through another server. */
  async refreshUserFields(): Promise<void> {
    for (const stored of await this.store.listNodes()) {
      const record = this.records.get(stored.name);
      if (!record || (record.cordoned === stored.cordoned && record.draining === stored.draining && JSON.stringify(userLabels(record)) === JSON.stringify(userLabels(stored)))) continue;
      const updated = { ...record, cordoned: stored.cordoned, draining: stored.draining, labels: { ...record.labels, ...userLabels(stored) } };
      this.records.set(record.name, updated);
      for (const listener of this.nodeListeners) listener(record.name, updated.state, updated.state);
    }
  }

  private async loadRecords(): Promise<void> {
    for (const name of this.records.keys()) if (name !== this.node) this.records.delete(name);
    for (const record of await this.store.listNodes()) {
      // This server's own node lives in this process: what it knows of it is newer than the store.
      if (this.local && record.name === this.node && this.records.has(record.name)) continue;
      this.records.set(record.name, record);
      // Until it dials in again, a node is as unheard-of as a new one; `down` stays down.
      this.beats.set(record.name, { state: record.state === "down" ? "down" : "not_ready", lastBeatAt: record.state === "down" ? null : this.now(), beatsOnTime: 0 });
    }
    this.refreshedAt = this.now();
  }

  // ── NodeDirectory ──

  nodes(): NodeRecord[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  assign(replica: string, node: string): void {
    this.assigned.set(replica, node);
  }

  nodeOf(replica: string): string | undefined {
    return this.assigned.get(replica);
  }

  onNodeChange(listener: (node: string, state: NodeState | null, previous: NodeState | null) => void): () => void {
    this.nodeListeners.add(listener);
    return () => this.nodeListeners.delete(listener);
  }

  /** Stores what an agent reported on connecting (a new node starts `initializing`). */
  async register(report: NodeReport, credentialHash: string | null, existing = this.records.get(report.name), store = this.store): Promise<NodeRecord> {
    const now = this.now();
    const record: NodeRecord = existing
      ? { ...existing, ...report, labels: { ...report.labels, ...userLabels(existing) }, credentialHash: credentialHash ?? existing.credentialHash, updatedAt: now }
      : { ...report, state: "initializing", stateReason: "joined", stateSince: now, cordoned: false, draining: false, credentialHash, joinedAt: now, lastHeartbeatAt: null, updatedAt: now };
    this.records.set(record.name, record);
    await store.putNode(record);
    if (!existing) {
      this.beats.set(record.name, { state: "initializing", lastBeatAt: null, beatsOnTime: 0 });
      await this.emit({ type: "NodeJoined", service: null, replica: null, reason: "Joined", message: `node ${record.name} joined from ${record.address}: ${record.allocatable.cpuMillis}m CPU, ${Math.round(record.allocatable.memoryBytes / 1024 ** 2)}Mi memory, runtimes ${record.runtimes.join(", ")}` });
      for (const listener of this.nodeListeners) listener(record.name, "initializing", null);
    }
    return record;
  }

  /** A connected agent: its replicas join the fleet's view; a previous connection of the same node is replaced. */
  attach(node: string, agent: NodeAgent): void {
    const previous = this.members.get(node);
    previous?.unwatch();
    // One connection per node: the newest (the agent redialled) replaces an older one still open.
    if (previous && previous.agent !== agent && previous.agent !== this.local) void previous.agent.close();
    const unwatch = agent.watch((status) => {
      this.assigned.set(status.id, node);
      for (const listener of this.listeners) listener({ ...status, node });
    });
    this.members.set(node, { agent, unwatch });
    if (agent !== this.local) void this.replay(node);
    else void agent.list().then((statuses) => statuses.forEach((s) => this.assigned.set(s.id, node)));
    this.heartbeat(node);
    // The node gets the current routes at once: it serves every service port.
    if (agent !== this.local) void this.pushRoutes().catch(() => undefined);
  }

  /**
   * What a node runs is news to the controllers when it (re)connects or comes back from `down`:
   * adopted, or stopped when it was replaced meanwhile.
   */
  private async replay(node: string): Promise<void> {
    const agent = this.members.get(node)?.agent;
    for (const status of (await agent?.list()) ?? []) {
      this.assigned.set(status.id, node);
      for (const listener of this.listeners) listener({ ...status, node });
    }
  }

  /** The connection is gone; the node's state now follows the missing heartbeats. */
  detach(node: string, agent: NodeAgent): void {
    const member = this.members.get(node);
    if (member?.agent !== agent) return;
    member.unwatch();
    this.members.delete(node);
  }

  heartbeat(node: string, freePorts?: number): void {
    const view = this.beats.get(node) ?? { state: "initializing", lastBeatAt: null, beatsOnTime: 0 };
    this.beats.set(node, onHeartbeat(view, this.now(), this.settings));
    const record = this.records.get(node);
    if (record && freePorts !== undefined) record.freePorts = freePorts;
  }

  liveness(node: string): { connected: boolean; lastBeatAt: number | null; metrics: MetricsSnapshot | null; traffic: ServiceTraffic[] } {
    const agent = this.members.get(node)?.agent;
    return { connected: agent !== undefined, lastBeatAt: this.beats.get(node)?.lastBeatAt ?? null, metrics: agent?.metrics() ?? null, traffic: agent?.traffic() ?? [] };
  }

  /** Changes what users set on a node (cordon, drain, labels) and stores it. */
  async updateNode(name: string, patch: Partial<Pick<NodeRecord, "cordoned" | "draining" | "labels">>): Promise<NodeRecord | undefined> {
    // A standby patches the record as the leader last stored it, not its own older copy.
    const record = this.activeNow ? this.records.get(name) : await this.userStore.getNode(name);
    if (!record) return undefined;
    const updated = { ...record, ...patch, updatedAt: this.now() };
    this.records.set(name, updated);
    await this.userStore.putNode(updated);
    for (const listener of this.nodeListeners) listener(name, updated.state, updated.state);
    return updated;
  }

  /** Forgets a node: its credential stops working and its connection is closed at once. */
  async removeNode(name: string): Promise<boolean> {
    const record = this.records.get(name);
    if (!record) return false;
    await this.userStore.deleteNode(name);
    this.records.delete(name);
    this.beats.delete(name);
    const member = this.members.get(name);
    if (member && member.agent !== this.local) {
      this.detach(name, member.agent);
      await member.agent.close();
    }
    for (const listener of this.nodeListeners) listener(name, null, record.state);
    return true;
  }

  // ── NodeAgent ──

  async start(launch: ReplicaLaunch): Promise<ReplicaStatus> {
    const node = this.assigned.get(launch.id) ?? this.node;
    const agent = this.members.get(node)?.agent;
    if (!agent) return notStarted(launch, node, `node ${node} is not connected`);
    try {
      return { ...(await agent.start(launch)), node };
    } catch (error) {
      return notStarted(launch, node, error instanceof Error ? error.message : String(error));
    }
  }

  async stop(id: string, signal: NodeJS.Signals, gracePeriodMs: number): Promise<void> {
    const agent = this.agentFor(id);
    if (!agent) return;
    // Other nodes' routers stop sending it new requests before its own router drains it.
    this.stopping.add(id);
    try {
      await this.pushRoutes().catch(() => undefined);
      await agent.stop(id, signal, gracePeriodMs);
    } catch {
      // The node went away while stopping: its replicas are judged by its heartbeats now.
    } finally {
      this.stopping.delete(id);
    }
  }

  async removeVolume(key: string, node: string): Promise<void> {
    const agent = this.members.get(node)?.agent;
    if (!agent) throw new Error(`node ${node}, which holds volume ${key}, is not connected: try again once it is`);
    await agent.removeVolume(key, node);
  }

  async volumeUsage(keys: string[], node: string): Promise<Record<string, number>> {
    return (await this.members.get(node)?.agent.volumeUsage(keys, node).catch(() => ({}))) ?? {};
  }

  async remove(id: string): Promise<void> {
    const agent = this.agentFor(id);
    try {
      await agent?.remove(id);
    } finally {
      this.assigned.delete(id);
    }
  }

  async prepare(runtime: string, image: ImageRef): Promise<{ reason: string; message: string } | null> {
    const candidates = [...this.members].filter(([name]) => this.records.get(name)?.runtimes.includes(runtime));
    if (candidates.length === 0) return { reason: "runtime_unavailable", message: `no connected node runs ${runtime}` };
    const results = await Promise.all(candidates.map(([, m]) => m.agent.prepare(runtime, image).catch((error: Error) => ({ reason: "node_unreachable", message: error.message }))));
    // Available on any node is enough to start: the scheduler then places it where the runtime is.
    return results.find((r) => r === null) === undefined ? results[0]! : null;
  }

  async list(): Promise<ReplicaStatus[]> {
    const lists = await Promise.all([...this.members].map(async ([node, m]) => (await m.agent.list()).map((s) => (s.node === node ? s : { ...s, node }))));
    return lists.flat();
  }

  watch(listener: (status: ReplicaStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async usage(id: string): Promise<ResourceUsage | null> {
    return (await this.agentFor(id)?.usage(id).catch(() => null)) ?? null;
  }

  async setRoutes(routes: Route[]): Promise<RouteStatus[]> {
    this.lastRoutes = routes;
    return this.pushRoutes();
  }

  metrics(): MetricsSnapshot {
    const base = this.local?.metrics() ?? [...this.members.values()][0]?.agent.metrics();
    const replicas = new Map([...this.members.values()].flatMap((m) => [...m.agent.metrics().replicas]));
    return base ? { ...base, replicas } : { intervalMs: 5_000, host: null, utilisation: null, energy: { source: "model", watts: 0, joulesTotal: 0, model: null }, replicas };
  }

  traffic(service?: string): ServiceTraffic[] {
    return sumTraffic([...this.members.values()].map((m) => m.agent.traffic(service)));
  }

  async tailLogs(id: string, lines: number): Promise<string[]> {
    const agent = this.agentFor(id);
    return agent ? agent.tailLogs(id, lines) : [`drover: node ${this.assigned.get(id) ?? "?"} of replica ${id} is not connected`];
  }

  followLogs(id: string, onData: (text: string) => void): () => void {
    return this.agentFor(id)?.followLogs(id, onData) ?? (() => undefined);
  }

  info(): AgentInfo {
    const remote = this.members.size - (this.local ? 1 : 0);
    const base = this.local?.info() ?? { node: "", runtimes: [], details: [] };
    return { ...base, details: [...base.details, `cluster: ${this.records.size} node(s), ${remote} remote agent(s) connected`] };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.members.values()].map((m) => m.agent.close()));
    this.members.clear();
  }

  // ── internals ──

  private agentFor(id: string): NodeAgent | undefined {
    const node = this.assigned.get(id);
    return node === undefined ? undefined : this.members.get(node)?.agent;
  }

  /** Every connected node gets the routes, with the ready replicas of the other ready nodes. */
  /**
   * Pushes run one at a time, each computed as it starts, so one computed earlier never lands
   * after a later one (a replica being stopped would come back into other nodes' routes and
   * take requests after it is gone). Callers arriving while a push waits share it.
   */
  private pushRoutes(): Promise<RouteStatus[]> {
    if (this.queuedPush) return this.queuedPush;
    const push = this.runningPush.catch(() => undefined).then(() => {
      this.queuedPush = null;
      return this.computeAndPushRoutes();
    });
    this.queuedPush = push;
    this.runningPush = push;
    return push;
  }

  private async computeAndPushRoutes(): Promise<RouteStatus[]> {
    const routes = this.lastRoutes;
    // One node (drover up): its own replicas are all there is.
    if (this.local && this.members.size === 1) return this.local.setRoutes(routes);
    const members = [...this.members];
    const ready: ReadyReplica[] = [];
    for (const [node, member] of members) {
      const record = this.records.get(node);
      if (record?.state !== "ready") continue;
      for (const status of await member.agent.list()) if (!this.stopping.has(status.id)) ready.push({ node, address: record.address, status });
    }
    const results = await Promise.all(members.map(([node, m]) => m.agent.setRoutes(meshRoutes(routes, node, ready)).catch(() => [] as RouteStatus[])));
    // The server's own node answers for every route; other nodes add only their failures.
    const statuses: RouteStatus[] = this.local ? [] : routes.map((r) => ({ ...r, error: null }));
    members.forEach(([node], i) => {
      if (node === this.node) statuses.unshift(...results[i]!);
      else statuses.push(...results[i]!.filter((s) => s.error).map((s) => ({ ...s, error: `node ${node}: ${s.error}` })));
    });
    return statuses;
  }

  private async checkStates(): Promise<void> {
    if (!this.activeNow) {
      if (this.now() - this.refreshedAt >= STANDBY_REFRESH_MS) await this.loadRecords();
      return;
    }
    // The server's own node is in this process: it is as alive as the server.
    if (this.local) this.heartbeat(this.node);
    // It alone: nothing has heartbeats to miss.
    if (this.local && this.records.size === 1 && this.members.size === 1) return;
    const now = this.now();
    for (const [name, record] of this.records) {
      const view = this.beats.get(name) ?? { state: record.state, lastBeatAt: null, beatsOnTime: 0 };
      const next = nodeState({ ...view, state: record.state }, now, this.settings);
      if (next.state === record.state) continue;
      const previous = record.state;
      const updated: NodeRecord = { ...record, state: next.state, stateReason: next.reason, stateSince: now, lastHeartbeatAt: view.lastBeatAt, updatedAt: now };
      this.records.set(name, updated);
      await this.store.putNode(updated);
      await this.emit({ type: `Node${eventName(next.state)}`, service: null, replica: null, reason: eventName(next.state), message: `node ${name} is ${next.state.replace("_", " ")}: ${next.reason}` });
      for (const listener of this.nodeListeners) listener(name, next.state, previous);
      if (previous === "down" && name !== this.node) await this.replay(name);
      // Who takes traffic follows node states.
      await this.pushRoutes().catch(() => undefined);
    }
  }
}

function eventName(state: NodeState): string {
  return { initializing: "Initializing", ready: "Ready", not_ready: "NotReady", down: "Down" }[state];
}

/** Labels a user set with `drover node label` survive the agent's own report. */
function userLabels(record: NodeRecord): Record<string, string> {
  return Object.fromEntries(Object.entries(record.labels).filter(([key]) => !key.startsWith("drover.dev/")));
}

function notStarted(launch: ReplicaLaunch, node: string, message: string): ReplicaStatus {
  return { id: launch.id, node, service: launch.service, revision: launch.revision, state: "exited", pid: null, ports: {}, startedAt: Date.now(), exit: { code: null, signal: null, reason: "node_unreachable", at: Date.now() }, message, probes: [], failing: null };
}
