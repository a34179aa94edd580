/**
 * The server's side of scheduling: turns stored nodes and replicas into the scheduler's plain
 * records, asks it, and keeps the records up to date within a pass as replicas are placed, so
 * several creations in one pass see each other.
 */
import type { NodeDirectory, NodeRecord, ReplicaRecord, RevisionRecord } from "../contract/index.js";
import { schedule } from "../scheduler/schedule.js";
import type { Decision, NodeCandidate, PlacementRequest } from "../scheduler/types.js";
import type { PlacementSpec, ServiceSpec } from "../spec/index.js";
import type { EventBus } from "./event-bus.js";

const DEFAULT_PLACEMENT: PlacementSpec = { strategy: "spread", constraints: [], spread_by: [], affinity: [] };

/** States in which a replica holds its node's resources. */
const HOLDS = new Set(["pending", "starting", "running", "ready", "unready", "terminating", "exited", "crash_loop"]);

export class PlacementView {
  private readonly candidates: NodeCandidate[];
  private rotation = 0;

  constructor(nodes: NodeRecord[], replicas: ReplicaRecord[], specOf: (replica: ReplicaRecord) => ServiceSpec | undefined, enforceRequests = true) {
    const byNode = new Map(nodes.map((n) => [n.name, candidate(n, enforceRequests)]));
    for (const replica of replicas) {
      const node = byNode.get(replica.node);
      const spec = specOf(replica);
      if (!node || !spec || !HOLDS.has(replica.state)) continue;
      add(node, replica.service, requestsOf(spec), 1);
    }
    this.candidates = [...byNode.values()];
  }

  /** Picks a node for one more replica of `service` and counts it there at once. */
  /** `pinned`: the node it must go to (its volumes are there). */
  place(service: string, spec: ServiceSpec, pinned?: string): Decision {
    const request = { ...placementRequest(service, spec), ...(pinned ? { node: pinned } : {}) };
    // Equal nodes take turns: the walk starts one further each time.
    const decision = schedule(request, this.candidates, { startAt: this.rotation++ });
    if (decision.node !== null) {
      const node = this.candidates.find((c) => c.name === decision.node)!;
      add(node, service, request.requests, 1);
      node.freePorts -= request.ports;
    }
    return decision;
  }
}

export function placementRequest(service: string, spec: ServiceSpec): PlacementRequest {
  const fixed = spec.runtime === "process" ? spec.networking.ports.filter((p) => p.target_port !== undefined).length : 0;
  return { service, runtime: spec.runtime, requests: requestsOf(spec), ports: spec.networking.ports.length - fixed, ...(fixed ? { fixedPorts: true } : {}), placement: spec.placement ?? DEFAULT_PLACEMENT };
}

/** What a replica reserves: its requests, or its limits where it asks for nothing (as Kubernetes does). */
function requestsOf(spec: ServiceSpec): PlacementRequest["requests"] {
  const { requests, limits } = spec.resources;
  return { cpuMillis: requests.cpu ?? limits.cpu ?? 0, memoryBytes: requests.memory ?? limits.memory ?? 0, gpus: requests.gpu ?? limits.gpu ?? 0 };
}

function candidate(node: NodeRecord, enforceRequests: boolean): NodeCandidate {
  const unbounded = { cpuMillis: Infinity, memoryBytes: Infinity, gpus: Infinity };
  return {
    name: node.name,
    labels: node.labels,
    ready: node.state === "ready",
    cordoned: node.cordoned || node.draining,
    runtimes: node.runtimes,
    // Unbounded on one machine: requests were never refused there (the fit score is then 0 for all, and moot).
    allocatable: enforceRequests ? node.allocatable : unbounded,
    requested: { cpuMillis: 0, memoryBytes: 0, gpus: 0 },
    gpuModel: node.gpuModel ?? undefined,
    freePorts: node.freePorts,
    wattsPerCore: node.energy.wattsPerCore,
    replicas: new Map(),
    replicaCount: 0,
  };
}

function add(node: NodeCandidate, service: string, requests: PlacementRequest["requests"], count: number): void {
  node.requested.cpuMillis += requests.cpuMillis * count;
  node.requested.memoryBytes += requests.memoryBytes * count;
  node.requested.gpus += requests.gpus * count;
  (node.replicas as Map<string, number>).set(service, (node.replicas.get(service) ?? 0) + count);
  node.replicaCount += count;
}

/** A reconcile pass's access to placement: a view of the nodes, and one event per distinct reason a service's replicas fit nowhere. */
export class Scheduling {
  /** Per service, the last reason none of its replicas could be placed. */
  private readonly unschedulable = new Map<string, string>();

  constructor(
    private readonly directory: NodeDirectory,
    private readonly events: EventBus,
    private readonly revision: (service: string, number: number) => Promise<RevisionRecord>,
  ) {}

  /** The nodes and what their replicas request, as of the pass's start. */
  async view(replicas: ReplicaRecord[]): Promise<PlacementView> {
    const specs = new Map<string, ServiceSpec>();
    for (const r of replicas) {
      const key = `${r.service}@${r.revision}`;
      if (!specs.has(key)) specs.set(key, (await this.revision(r.service, r.revision)).descriptor.spec);
    }
    // A node the store calls ready whose agent has not dialled this server (a new leader's first seconds) takes nothing new yet.
    const nodes = this.directory.nodes().map((n) => (n.state === "ready" && !this.directory.liveness(n.name).connected ? { ...n, state: "not_ready" as const } : n));
    return new PlacementView(nodes, replicas, (r) => specs.get(`${r.service}@${r.revision}`), this.directory.enforcesRequests);
  }

  /** A `ReplicaPending` event when a service's replicas stop fitting, or fit nowhere for another reason. */
  async noted(service: string, replica: string, decision: Decision): Promise<void> {
    if (decision.node !== null) {
      this.unschedulable.delete(service);
      return;
    }
    if (this.unschedulable.get(service) === decision.message) return;
    this.unschedulable.set(service, decision.message);
    await this.events.emit({ type: "ReplicaPending", service, replica, reason: "FailedScheduling", message: `no node fits: ${decision.message}` });
  }
}
