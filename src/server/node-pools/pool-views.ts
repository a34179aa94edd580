/** Pools as the API shows them: the record, its instances with their nodes and lifecycle history. */
import type { InstanceState, InstanceView, NodeRecord, PoolRecord, PoolView, ReplicaRecord } from "../../contract/index.js";
import crypto from "node:crypto";
import type { Store } from "../../store/store.js";

/** The cluster's id (made by the first server that asks), with which providers tag its instances. */
export function clusterId(store: Store): Promise<string> {
  return store.ensureSetting("cluster.id", () => crypto.randomBytes(4).toString("hex"));
}

export async function poolView(store: Store, pool: PoolRecord, nodes: NodeRecord[], replicas: ReplicaRecord[], cluster: string, options: { archived?: boolean } = {}): Promise<PoolView> {
  const spec = pool.document.spec;
  const transitions = await store.listTransitions(pool.name);
  const instances: InstanceView[] = (await store.listInstances(pool.name))
    .filter((i) => options.archived || i.state !== "archived")
    .map((instance) => ({
      ...instance,
      nodeState: nodes.find((n) => n.name === instance.id)?.state ?? null,
      replicas: replicas.filter((r) => r.node === instance.id && r.state !== "lost").length,
      history: transitions.filter((t) => t.instance === instance.id),
    }));
  const counts: Partial<Record<InstanceState, number>> = {};
  for (const i of instances) counts[i.state] = (counts[i.state] ?? 0) + 1;
  return {
    name: pool.name,
    cluster,
    provider: spec.provider,
    min: spec.min,
    max: spec.max,
    desired: Math.min(spec.max, Math.max(spec.min, pool.desired ?? spec.min)),
    machine: typeof spec.machine === "string" ? (instances.find((i) => i.machine.name === spec.machine)?.machine ?? null) : { name: "custom", hourly_cost: 0, watts: 0, ...spec.machine },
    machineName: typeof spec.machine === "string" ? spec.machine : "custom",
    optimize: spec.optimize,
    autoscale: spec.autoscale,
    consolidation: spec.consolidation,
    problem: pool.problem,
    deleting: pool.deleting,
    counts,
    instances,
    updatedAt: pool.updatedAt,
  };
}
