/**
 * The cluster autoscaler at work: replicas that fit on no node grow the pool whose machine takes
 * them at the lowest cost (or watts, by the pool's `optimize`), within `max`; a node of a pool
 * above `min` whose replicas all fit on the other nodes for `scale_down_delay` is drained (its
 * replicas replaced elsewhere first) and terminated. With `consolidation` that includes busy
 * nodes — replicas are packed onto fewer nodes at low load; without, only empty nodes go. Every
 * decision is an event with its inputs.
 */
import { LIVE_INSTANCE_STATES, type InstanceRecord, type NodeDirectory, type NodeRecord, type ReplicaRecord } from "../../contract/index.js";
import type { ServiceSpec } from "../../spec/index.js";
import type { Store } from "../../store/store.js";
import type { EventBus } from "../event-bus.js";
import { PlacementView } from "../placement.js";
import { fitsElsewhere, planScaleUp, placementRequest, poolMetric, type PendingReplica, type PoolOption } from "./cluster-autoscaler.js";
import type { InstanceMoves } from "./instance-moves.js";
import type { ActivePool } from "./pool-controller.js";

const ARRIVING = new Set(["provisioning", "booting", "joining"]);

export class PoolAutoscaling {
  /** Since when each instance's node could go (its replicas fitting elsewhere), while that holds. */
  private readonly removableSince = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly directory: NodeDirectory,
    private readonly events: EventBus,
    private readonly moves: InstanceMoves,
    private readonly now: () => number,
  ) {}

  async evaluate(pools: ActivePool[], nodes: NodeRecord[], replicas: ReplicaRecord[], specOf: (replica: ReplicaRecord) => ServiceSpec | undefined): Promise<void> {
    const scaling = pools.filter((p) => p.record.document.spec.autoscale && !p.record.deleting);
    if (scaling.length === 0) return;
    const pending = this.unschedulable(nodes, replicas, specOf);
    if (pending.length > 0) {
      this.removableSince.clear();
      await this.scaleUp(scaling, pending, nodes);
      return;
    }
    for (const pool of scaling) await this.scaleDown(pool, nodes, replicas, specOf);
  }

  /** Pending replicas that fit on no node now (the scheduler asked again: a node may have joined since the reconciler tried). */
  private unschedulable(nodes: NodeRecord[], replicas: ReplicaRecord[], specOf: (replica: ReplicaRecord) => ServiceSpec | undefined): PendingReplica[] {
    const waiting = replicas.filter((r) => r.state === "pending" && r.node === "");
    if (waiting.length === 0) return [];
    const view = new PlacementView(nodes, replicas, specOf, this.directory.enforcesRequests);
    const pending: PendingReplica[] = [];
    for (const replica of waiting) {
      const spec = specOf(replica);
      if (!spec) continue;
      const decision = view.place(replica.service, spec);
      if (decision.node === null) pending.push({ id: replica.id, service: replica.service, request: placementRequest(replica.service, spec), reason: decision.message });
    }
    return pending;
  }

  private async scaleUp(pools: ActivePool[], pending: PendingReplica[], nodes: NodeRecord[]): Promise<void> {
    const options: PoolOption[] = pools.filter((p) => !p.record.problem).map((pool) => {
      const live = pool.instances.filter((i) => LIVE_INSTANCE_STATES.includes(i.state));
      const runtimes = [...new Set(nodes.filter((n) => pool.instances.some((i) => i.id === n.name && i.state === "ready")).flatMap((n) => n.runtimes))];
      return {
        name: pool.record.name,
        machine: pool.machine,
        labels: pool.record.document.spec.labels,
        optimize: pool.record.document.spec.optimize,
        room: Math.max(0, pool.record.document.spec.max - live.length),
        arriving: live.filter((i) => ARRIVING.has(i.state)).length,
        runtimes: runtimes.length > 0 ? runtimes : ["process", "docker"],
      };
    });
    const plan = planScaleUp(pending, options);
    for (const [name, add] of plan.add) {
      const pool = pools.find((p) => p.record.name === name)!;
      const option = options.find((o) => o.name === name)!;
      const live = pool.instances.filter((i) => LIVE_INSTANCE_STATES.includes(i.state) && i.state !== "draining").length;
      const desired = Math.min(pool.record.document.spec.max, live + add);
      pool.record.desired = desired;
      await this.store.updatePool(name, { desired });
      const forReplicas = plan.for.get(name) ?? [];
      const services = [...new Set(forReplicas.map((r) => r.service))].join(", ");
      const others = options.filter((o) => o.name !== name).map((o) => `${o.name} ${describeMetric(o)}`);
      await this.events.emit({
        type: "NodePoolScaledUp",
        service: null,
        replica: null,
        reason: "PendingReplicas",
        message: `pool ${name} ${live} → ${desired}: ${forReplicas.length} pending replica(s) of ${services} (${forReplicas[0]?.reason ?? "no node fits"}); machine ${pool.machine.name}: ${pool.machine.cpu}m CPU, ${Math.round(pool.machine.memory / 1024 ** 2)}Mi${pool.machine.gpus ? `, ${pool.machine.gpus} GPU` : ""}, ${describeMetric(option)}; chosen by ${option.optimize}${others.length ? ` over ${others.join(", ")}` : ""}`,
      });
    }
    for (const { replica, why } of plan.unplaceable) {
      // Said once per replica and reason, not every pass.
      const key = `${replica.id}:${why}`;
      if (this.told.has(key)) continue;
      this.told.add(key);
      await this.events.emit({ type: "NodePoolCannotFit", service: replica.service, replica: replica.id, reason: "NoPoolFits", message: `no node pool can take ${replica.id}: ${why} (it needs ${replica.request.requests.cpuMillis}m CPU, ${Math.round(replica.request.requests.memoryBytes / 1024 ** 2)}Mi${replica.request.requests.gpus ? `, ${replica.request.requests.gpus} GPU` : ""})` });
    }
  }

  private readonly told = new Set<string>();

  private async scaleDown(pool: ActivePool, nodes: NodeRecord[], replicas: ReplicaRecord[], specOf: (replica: ReplicaRecord) => ServiceSpec | undefined): Promise<void> {
    const spec = pool.record.document.spec;
    const live = pool.instances.filter((i) => LIVE_INSTANCE_STATES.includes(i.state));
    // One change at a time: nothing arriving or leaving in this pool.
    if (live.some((i) => i.state !== "ready") || live.length <= spec.min) {
      for (const i of pool.instances) this.removableSince.delete(i.id);
      return;
    }
    const schedulable = nodes.filter((n) => n.state === "ready" && !n.cordoned && !n.draining);
    const candidates: Array<{ instance: InstanceRecord; moving: number; since: number }> = [];
    for (const instance of live) {
      const node = schedulable.find((n) => n.name === instance.id);
      const check = node ? fitsElsewhere(instance.id, schedulable, replicas, specOf, this.directory.enforcesRequests) : { fits: false, moving: 0 };
      if (!check.fits || (!spec.consolidation && check.moving > 0)) {
        this.removableSince.delete(instance.id);
        continue;
      }
      const since = this.removableSince.get(instance.id) ?? this.now();
      this.removableSince.set(instance.id, since);
      candidates.push({ instance, moving: check.moving, since });
    }
    const due = candidates.filter((c) => this.now() - c.since >= spec.scale_down_delay).sort((a, b) => a.moving - b.moving || b.instance.createdAt - a.instance.createdAt);
    const chosen = due[0];
    if (!chosen) return;
    this.removableSince.delete(chosen.instance.id);
    const desired = live.length - 1;
    pool.record.desired = desired;
    await this.store.updatePool(pool.record.name, { desired });
    const how = chosen.moving === 0 ? "it holds no replicas" : `its ${chosen.moving} replica(s) fit on the other nodes (consolidation)`;
    const saving = `saves ${pool.machine.watts} W and $${pool.machine.hourly_cost.toFixed(3)}/h`;
    await this.events.emit({ type: "NodePoolScaledDown", service: null, replica: null, reason: chosen.moving === 0 ? "Idle" : "Consolidation", message: `pool ${pool.record.name} ${live.length} → ${desired}: node ${chosen.instance.id}: ${how} for ${Math.round((this.now() - chosen.since) / 1000)}s (scale_down_delay ${Math.round(spec.scale_down_delay / 1000)}s); ${saving}` });
    await this.directory.updateNode(chosen.instance.id, { cordoned: true, draining: true });
    await this.moves.move(chosen.instance, "draining", chosen.moving === 0 ? "idle: scaled down" : "consolidation: its replicas move to the other nodes");
  }
}

function describeMetric(option: Pick<PoolOption, "optimize" | "machine">): string {
  return option.optimize === "energy" ? `${poolMetric(option)} W` : `$${poolMetric(option).toFixed(3)}/h`;
}
