/**
 * Decides what to do with one service's replicas, from desired state and what was observed.
 * Pure: no I/O, no clock but the `now` it is given. The reconciler carries the actions out.
 *
 * While a rollout runs, its strategy (src/rollout) decides the replicas of the new and old
 * revisions. Otherwise — after a rollback reverted the service, or for leftovers — replicas of
 * other revisions are replaced surge-first: new ones are created up to the desired count, and an
 * old one is stopped only as a new one becomes ready, so capacity never drops.
 */
import type { ReplicaRecord } from "../contract/index.js";

export interface ServiceView {
  name: string;
  revision: number;
  replicas: number;
  enabled: boolean;
  deleting: boolean;
  /** Required dependencies that have no ready replica yet. */
  waitingFor: string[];
  /** Replicas on draining nodes: replaced elsewhere first, then stopped, like those of an old revision. */
  moving?: ReadonlySet<string>;
}

export type ReplicaAction =
  | { type: "create"; revision: number }
  | { type: "start"; replica: string }
  | { type: "stop"; replica: string; reason: string }
  | { type: "remove"; replica: string }
  | { type: "removeService" };

export interface ReplicaPlan {
  actions: ReplicaAction[];
  /** The earliest time something becomes due (a backoff ends); the reconciler wakes then. */
  wakeAt: number | null;
}

const STOPPABLE = new Set(["pending", "starting", "running", "ready", "unready"]);

/** Ended for good: no restart is scheduled. */
export function isFinal(replica: ReplicaRecord): boolean {
  return (replica.state === "exited" || replica.state === "failed" || replica.state === "crash_loop") && replica.nextStartAt === null;
}

function isReady(replica: ReplicaRecord): boolean {
  return replica.state === "ready";
}

/** Which replicas go first when some must stop: not ready before ready, newest before oldest. */
function stopOrder(a: ReplicaRecord, b: ReplicaRecord): number {
  return Number(isReady(a)) - Number(isReady(b)) || b.createdAt - a.createdAt || b.id.localeCompare(a.id);
}

/**
 * `revisions`, while a rollout runs, decides the replicas of the new and old revisions (its
 * strategy); otherwise the default applies: the desired count of the service's revision, old
 * replicas stopped as new ones become ready.
 */
export function planReplicas(service: ServiceView, replicas: ReplicaRecord[], now: number, revisions?: ((current: ReplicaRecord[], old: ReplicaRecord[]) => ReplicaAction[]) | null): ReplicaPlan {
  const actions: ReplicaAction[] = [];
  let wakeAt: number | null = null;
  const wake = (at: number) => (wakeAt = wakeAt === null ? at : Math.min(wakeAt, at));
  const active = replicas.filter((r) => r.state !== "terminating");
  const stop = (list: ReplicaRecord[], reason: string) => {
    for (const r of list) {
      if (STOPPABLE.has(r.state)) actions.push({ type: "stop", replica: r.id, reason });
      else actions.push({ type: "remove", replica: r.id });
    }
  };

  if (service.deleting || !service.enabled) {
    stop(active, service.deleting ? "service deleted" : "service stopped");
    if (service.deleting && replicas.length === 0) actions.push({ type: "removeService" });
    return { actions, wakeAt };
  }

  for (const replica of active) {
    // Due: an exited replica whose backoff has passed, or a pending one scheduled by a recreate.
    if (replica.nextStartAt === null || (STOPPABLE.has(replica.state) && replica.state !== "pending")) continue;
    if (replica.nextStartAt <= now) actions.push({ type: "start", replica: replica.id });
    else wake(replica.nextStartAt);
  }

  const moving = service.moving ?? new Set<string>();
  const current = active.filter((r) => r.revision === service.revision && !moving.has(r.id)).sort(stopOrder).reverse();
  const old = active.filter((r) => r.revision !== service.revision || moving.has(r.id)).sort(stopOrder);
  const blocked = service.waitingFor.length > 0 && active.length === 0;
  if (revisions) {
    actions.push(...revisions(current, old));
    return { actions, wakeAt };
  }

  if (current.length < service.replicas && !blocked) {
    for (let i = current.length; i < service.replicas; i++) actions.push({ type: "create", revision: service.revision });
  }
  if (current.length > service.replicas) stop(current.slice(service.replicas).sort(stopOrder), "scaled down");

  // Old replicas stay while the new revision is short of ready ones.
  const readyNew = current.slice(0, service.replicas).filter(isReady).length;
  const oldToKeep = Math.max(0, service.replicas - readyNew);
  const oldReadyFirst = [...old].sort(stopOrder).reverse();
  for (const r of oldReadyFirst.slice(oldToKeep)) stop([r], moving.has(r.id) ? "moved off a draining node" : "replaced by a new revision");
  return { actions, wakeAt };
}
