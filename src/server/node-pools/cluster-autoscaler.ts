/**
 * The cluster autoscaler's decisions, pure: which pools grow for replicas that fit on no node
 * (each new node simulated with the scheduler itself, so a pool is chosen only if its machine,
 * labels and runtimes really take the replica), and which nodes could go because everything they
 * hold fits on the others — the scale-down of idle nodes and consolidation of busy ones alike.
 */
import { allocatableOf, type NodeRecord, type ReplicaRecord } from "../../contract/index.js";
import { schedule } from "../../scheduler/schedule.js";
import type { NodeCandidate, PlacementRequest } from "../../scheduler/types.js";
import type { MachineType, ServiceSpec } from "../../spec/index.js";
import { PlacementView, placementRequest } from "../placement.js";

export interface PoolOption {
  name: string;
  machine: MachineType;
  labels: Record<string, string>;
  optimize: "cost" | "energy";
  /** How many more instances `max` allows. */
  room: number;
  /** Instances on their way (provisioning, booting, joining): their capacity is coming. */
  arriving: number;
  /** Runtimes its nodes offer (those of its ready nodes; both where none joined yet). */
  runtimes: string[];
}

export interface PendingReplica {
  id: string;
  service: string;
  request: PlacementRequest;
  /** Why it fits on no node now, as the scheduler said. */
  reason: string;
}

export interface ScaleUpPlan {
  /** New instances per pool. */
  add: Map<string, number>;
  /** Per pool, the pending replicas its new nodes are for. */
  for: Map<string, PendingReplica[]>;
  /** Replicas no pool's machine can take (or every pool that could is at max), with why. */
  unplaceable: Array<{ replica: PendingReplica; why: string }>;
}

/** What a pool's metric is: hourly cost, or watts, as the pool says. */
export function poolMetric(pool: Pick<PoolOption, "optimize" | "machine">): number {
  return pool.optimize === "energy" ? pool.machine.watts : pool.machine.hourly_cost;
}

/**
 * Pending replicas first fill the nodes already arriving, then new nodes of the cheapest pool
 * (by its metric) whose machine fits them, within `max`; a new node takes as many as fit on it.
 */
export function planScaleUp(pending: PendingReplica[], pools: PoolOption[]): ScaleUpPlan {
  const ranked = [...pools].sort((a, b) => poolMetric(a) - poolMetric(b) || a.name.localeCompare(b.name));
  const virtual: Array<{ pool: string; node: NodeCandidate }> = [];
  for (const pool of ranked) for (let i = 0; i < pool.arriving; i++) virtual.push({ pool: pool.name, node: virtualNode(pool, `${pool.name}#arriving-${i}`) });
  const room = new Map(ranked.map((p) => [p.name, p.room]));
  const plan: ScaleUpPlan = { add: new Map(), for: new Map(), unplaceable: [] };
  for (const replica of pending) {
    // Binpack onto what is coming or was added for earlier replicas of this plan.
    const onVirtual = schedule({ ...replica.request, placement: { ...replica.request.placement, strategy: "binpack" } }, virtual.map((v) => v.node), { sampleSize: 0 });
    if (onVirtual.node !== null) {
      const chosen = virtual.find((v) => v.node.name === onVirtual.node)!;
      take(chosen.node, replica.request);
      plan.for.set(chosen.pool, [...(plan.for.get(chosen.pool) ?? []), replica]);
      continue;
    }
    const fits = ranked.filter((pool) => schedule(replica.request, [virtualNode(pool, pool.name)], { sampleSize: 0 }).node !== null);
    const pool = fits.find((p) => (room.get(p.name) ?? 0) > 0);
    if (!pool) {
      plan.unplaceable.push({ replica, why: fits.length === 0 ? "no pool's machine fits it" : `every pool that fits it is at max (${fits.map((p) => p.name).join(", ")})` });
      continue;
    }
    room.set(pool.name, room.get(pool.name)! - 1);
    plan.add.set(pool.name, (plan.add.get(pool.name) ?? 0) + 1);
    plan.for.set(pool.name, [...(plan.for.get(pool.name) ?? []), replica]);
    const node = virtualNode(pool, `${pool.name}#new-${plan.add.get(pool.name)}`);
    take(node, replica.request);
    virtual.push({ pool: pool.name, node });
  }
  return plan;
}

/**
 * Whether everything `node` holds would fit on the other schedulable nodes (their requests and
 * constraints as the scheduler checks them), and, when not, which replica does not.
 */
export function fitsElsewhere(node: string, nodes: NodeRecord[], replicas: ReplicaRecord[], specOf: (replica: ReplicaRecord) => ServiceSpec | undefined, enforceRequests: boolean): { fits: boolean; moving: number; blocker?: string } {
  const others = nodes.filter((n) => n.name !== node);
  const staying = replicas.filter((r) => r.node !== node);
  const moving = replicas.filter((r) => r.node === node && HOLDING.has(r.state));
  const view = new PlacementView(others, staying, specOf, enforceRequests);
  for (const replica of moving) {
    const spec = specOf(replica);
    if (!spec) continue;
    const decision = view.place(replica.service, spec);
    if (decision.node === null) return { fits: false, moving: moving.length, blocker: `${replica.id} (${replica.service}): ${decision.message}` };
  }
  return { fits: true, moving: moving.length };
}

const HOLDING = new Set(["pending", "starting", "running", "ready", "unready", "crash_loop"]);

/** A node that does not exist yet, as the scheduler would see it once it joined. */
function virtualNode(pool: PoolOption, name: string): NodeCandidate {
  const allocatable = allocatableOf({ cpuMillis: pool.machine.cpu, memoryBytes: pool.machine.memory, gpus: pool.machine.gpus });
  return {
    name,
    labels: pool.labels,
    ready: true,
    cordoned: false,
    runtimes: pool.runtimes,
    allocatable,
    requested: { cpuMillis: 0, memoryBytes: 0, gpus: 0 },
    gpuModel: pool.machine.gpu_model,
    freePorts: 1000,
    wattsPerCore: 0,
    replicas: new Map(),
    replicaCount: 0,
  };
}

function take(node: NodeCandidate, request: PlacementRequest): void {
  node.requested.cpuMillis += request.requests.cpuMillis;
  node.requested.memoryBytes += request.requests.memoryBytes;
  node.requested.gpus += request.requests.gpus;
  (node.replicas as Map<string, number>).set(request.service, (node.replicas.get(request.service) ?? 0) + 1);
  node.replicaCount += 1;
}

export { placementRequest };
