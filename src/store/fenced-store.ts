/**
 * The store as the leader's controllers see it: every write runs fenced by the leader's current
 * lease term, so a leader that was paused past its lease (and replaced) writes nothing when it
 * wakes. Reads pass through. The API keeps the plain store: any server takes users' writes.
 */
import { StaleLeaderError, type LeaderFence, type Store } from "./store.js";

/** The Store methods that change state (reads are everything else). */
const WRITES = new Set<keyof Store>([
  "apply", "updateService", "removeService", "insertReplica", "updateReplica", "deleteReplica", "deleteConfigObject",
  "insertRollout", "updateRollout", "appendMetricMinutes", "insertToken", "updateToken", "appendAudit",
  "putNode", "deleteNode", "insertJoinToken", "appendEvent", "updatePool", "deletePool", "putInstance", "updateJob", "deleteJob", "putRun", "deleteRun", "insertRun", "claimVolume",
]);

/** `fence()`: the lease this server holds now, or null when it is not the leader (then every write is refused). */
export function fencedStore(store: Store, fence: () => LeaderFence | null): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function" || !WRITES.has(property as keyof Store)) return typeof value === "function" ? value.bind(target) : value;
      return (...args: unknown[]) => {
        const current = fence();
        if (!current) return Promise.reject(new StaleLeaderError(null));
        return target.fenced(current, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      };
    },
  });
}
