/**
 * Services with volumes and stateful services (StatefulSet semantics): stable replica names
 * (`db-0`, `db-1`; `db-0.shop` outside the default namespace), one volume set per ordinal, ordered
 * start (the next only once every other is ready) and stop (highest ordinal first), replacement
 * on the same name and volumes — and the node a replica must go to because its volume is there.
 */
import { volumeKey, type ReplicaRecord, type VolumeRecord } from "../contract/index.js";
import { DATABASE_VOLUME, type ServiceSpec } from "../spec/index.js";
import type { Store } from "../store/store.js";
import type { ReplicaAction } from "./replica-plan.js";
import { isFinal } from "./replica-plan.js";

export function statefulId(service: { name: string; namespace: string }, ordinal: number): string {
  const shortName = service.name.slice(service.namespace.length + 1);
  return service.namespace === "default" ? `${shortName}-${ordinal}` : `${shortName}-${ordinal}.${service.namespace}`;
}

/** A stateful replica's ordinal, from its name. */
export function ordinalOf(replicaId: string): number {
  const match = /-(\d+)(\.[a-z0-9-]+)?$/.exec(replicaId);
  return match ? Number(match[1]) : 0;
}

/** The lowest ordinal no replica holds: a replaced replica comes back under its own name. */
export function freeOrdinal(replicas: ReplicaRecord[]): number {
  const taken = new Set(replicas.map((r) => ordinalOf(r.id)));
  let ordinal = 0;
  while (taken.has(ordinal)) ordinal++;
  return ordinal;
}

/** For the planner, a stateful replica's age is its ordinal: the highest goes first, as "newest first" reads. */
export function orderedByOrdinal(replicas: ReplicaRecord[]): ReplicaRecord[] {
  return replicas.map((r) => ({ ...r, createdAt: ordinalOf(r.id) }));
}

/**
 * Ordered start: one new replica at a time, only while none is stopping (its ordinal must be free
 * to come back) and every other one is ready.
 */
export function orderedActions(actions: ReplicaAction[], replicas: ReplicaRecord[]): ReplicaAction[] {
  // A replica stopped in this same pass still holds its ordinal: its successor comes in a later one.
  const settled = replicas.every((r) => r.state === "ready" || isFinal(r)) && !replicas.some((r) => r.state === "terminating") && !actions.some((a) => a.type === "stop" || a.type === "remove");
  let created = false;
  return actions.filter((action) => {
    if (action.type !== "create") return true;
    if (!settled || created) return false;
    created = true;
    return true;
  });
}

/** The volumes a replica uses: the service's own, or its ordinal's for a stateful one. */
export function replicaVolumes(service: string, spec: ServiceSpec, replicaId: string): Array<{ name: string; key: string; mountPath?: string; size: number | null; ordinal: number | null }> {
  const ordinal = spec.stateful ? ordinalOf(replicaId) : null;
  return (spec.volumes ?? []).map((v) => ({ name: v.name, key: volumeKey(service, v.name, ordinal), ...(v.mount_path ? { mountPath: v.mount_path } : {}), size: v.size ?? null, ordinal }));
}

/** Where the replica's volumes already are (it must go there), or null when they are new. */
export async function volumeNode(store: Store, service: string, spec: ServiceSpec, replicaId: string): Promise<string | null> {
  for (const volume of replicaVolumes(service, spec, replicaId)) {
    const record = await store.getVolume(volume.key);
    if (record) return record.node;
  }
  return null;
}

/** Records the replica's volumes on its node before it starts; false when one is elsewhere already. */
export async function claimVolumes(store: Store, replica: Pick<ReplicaRecord, "id" | "service" | "node">, spec: ServiceSpec, now: number): Promise<VolumeRecord | null> {
  for (const volume of replicaVolumes(replica.service, spec, replica.id)) {
    const stored = await store.claimVolume({ key: volume.key, service: replica.service, name: volume.name, ordinal: volume.ordinal, node: replica.node, size: volume.size, createdAt: now });
    if (stored.node !== replica.node) return stored;
  }
  return null;
}

/** The node a managed database's data is on (its one volume, of ordinal 0), once it has one. */
export async function databaseNode(store: Store, service: string): Promise<string | null> {
  return (await store.getVolume(volumeKey(service, DATABASE_VOLUME, 0)))?.node ?? null;
}
