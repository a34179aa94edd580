/**
 * A node's agent on another machine, behind the same NodeAgent interface as the local one: calls
 * go over the wire and wait for their reply; what the agent reports (replica changes, metrics,
 * traffic) is mirrored here, so reads (`list`, `metrics`, `traffic`) cost no round trip.
 */
import { fromWireMetrics, type AgentMessage, type CallMethod, type ServerMessage } from "../contract/wire.js";
import type { WireConnection } from "../contract/connection.js";
import type { AgentInfo, ImageRef, MetricsSnapshot, NodeAgent, NodeReport, ReplicaLaunch, ReplicaStatus, ResourceUsage, Route, RouteStatus, ServiceTraffic } from "../contract/index.js";

/** A call that outlives this has lost its agent; the reconciler retries on its next pass. */
const CALL_TIMEOUT_MS = 30_000;

/** Thrown for a call that could not reach the agent or that the agent answered with an error. */
export class AgentCallError extends Error {
  override readonly name = "AgentCallError";
}

export class RemoteAgent implements NodeAgent {
  readonly node: string;
  private readonly statuses = new Map<string, ReplicaStatus>();
  private readonly listeners = new Set<(status: ReplicaStatus) => void>();
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private readonly streams = new Map<number, (text: string) => void>();
  private nextId = 1;
  private snapshot: MetricsSnapshot;
  private counted: ServiceTraffic[] = [];

  constructor(
    private readonly connection: WireConnection<AgentMessage, ServerMessage>,
    public report: NodeReport,
    replicas: ReplicaStatus[],
  ) {
    this.node = report.name;
    for (const status of replicas) this.statuses.set(status.id, { ...status, node: this.node });
    this.snapshot = { intervalMs: 5_000, host: null, utilisation: null, energy: { source: report.energy.source, watts: 0, joulesTotal: 0, model: null }, replicas: new Map() };
    connection.onClose((reason) => {
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new AgentCallError(`node ${this.node}: ${reason}`));
      }
      this.pending.clear();
    });
  }

  /** A message from the agent after its hello (the cluster listener passes them on). */
  receive(message: AgentMessage): void {
    switch (message.type) {
      case "replica": {
        const status = { ...message.status, node: this.node };
        this.statuses.set(status.id, status);
        for (const listener of this.listeners) listener(status);
        return;
      }
      case "metrics":
        this.snapshot = fromWireMetrics(message.snapshot);
        this.counted = message.traffic;
        return;
      case "reply": {
        const call = this.pending.get(message.id);
        if (!call) return;
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        if (message.ok) call.resolve(message.result);
        else call.reject(new AgentCallError(`node ${this.node}: ${message.error ?? "failed"}`));
        return;
      }
      case "log":
        this.streams.get(message.stream)?.(message.text);
        return;
      default:
        return;
    }
  }

  async start(launch: ReplicaLaunch): Promise<ReplicaStatus> {
    const status = { ...((await this.call("start", [launch])) as ReplicaStatus), node: this.node };
    this.statuses.set(status.id, status);
    return status;
  }

  async stop(id: string, signal: NodeJS.Signals, gracePeriodMs: number): Promise<void> {
    // The stop takes up to the grace period on the agent; the call waits that long, and more.
    await this.call("stop", [id, signal, gracePeriodMs], gracePeriodMs + CALL_TIMEOUT_MS);
  }

  async removeVolume(key: string): Promise<void> {
    await this.call("removeVolume", [key]);
  }

  async volumeUsage(keys: string[]): Promise<Record<string, number>> {
    return (await this.call("volumeUsage", [keys])) as Record<string, number>;
  }

  async remove(id: string): Promise<void> {
    await this.call("remove", [id]);
    this.statuses.delete(id);
  }

  async prepare(runtime: string, image: ImageRef): Promise<{ reason: string; message: string } | null> {
    return (await this.call("prepare", [runtime, image], 10 * 60_000)) as { reason: string; message: string } | null;
  }

  async list(): Promise<ReplicaStatus[]> {
    return [...this.statuses.values()];
  }

  watch(listener: (status: ReplicaStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async usage(id: string): Promise<ResourceUsage | null> {
    return (await this.call("usage", [id])) as ResourceUsage | null;
  }

  async setRoutes(routes: Route[]): Promise<RouteStatus[]> {
    return (await this.call("setRoutes", [routes])) as RouteStatus[];
  }

  metrics(): MetricsSnapshot {
    return this.snapshot;
  }

  traffic(service?: string): ServiceTraffic[] {
    return service === undefined ? this.counted : this.counted.filter((t) => t.service === service);
  }

  async tailLogs(id: string, lines: number): Promise<string[]> {
    return (await this.call("tailLogs", [id, lines])) as string[];
  }

  followLogs(id: string, onData: (text: string) => void): () => void {
    const stream = this.nextId++;
    this.streams.set(stream, onData);
    this.call("followLogs", [id, stream]).catch(() => this.streams.delete(stream));
    return () => {
      this.streams.delete(stream);
      this.call("unfollowLogs", [stream]).catch(() => undefined);
    };
  }

  info(): AgentInfo {
    return { node: this.node, runtimes: this.report.runtimes, details: [`node ${this.node} at ${this.report.address} (agent ${this.report.agentVersion})`] };
  }

  /** Ends the connection; the agent keeps its replicas and dials again. */
  async close(): Promise<void> {
    this.connection.close("server closing the connection");
  }

  private call(method: CallMethod, params: unknown[], timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.connection.send({ type: "call", id, method, params })) {
        reject(new AgentCallError(`node ${this.node} is not connected`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentCallError(`node ${this.node} did not answer ${method} within ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }
}
