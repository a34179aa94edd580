/**
 * What a node's fate means for its replicas: lost when it goes down (the next pass replaces them
 * elsewhere at once — nothing was wrong with the replicas, so no backoff), forgotten when it is
 * removed, and a drain that is done once the node holds nothing.
 */
import type { NodeDirectory, NodeState, ReplicaRecord } from "../contract/index.js";
import type { Store } from "../store/store.js";
import type { EventBus } from "./event-bus.js";

export class NodeLifecycle {
  constructor(
    private readonly store: Store,
    private readonly directory: NodeDirectory,
    private readonly events: EventBus,
  ) {}

  async nodeChanged(node: string, state: NodeState | null): Promise<void> {
    if (state !== "down" && state !== null) return;
    for (const record of await this.store.listReplicas()) {
      if (record.node !== node) continue;
      if (state === null) {
        await this.forget(record, `node ${node} was removed`);
        continue;
      }
      if (record.state === "lost" || record.state === "exited" || record.state === "failed") continue;
      await this.store.updateReplica(record.id, { state: "lost", reason: "NodeDown", nextStartAt: null });
      await this.events.emit({ type: "ReplicaLost", service: record.service, replica: record.id, reason: "NodeDown", message: `node ${node} is down; replacing it on another node` });
    }
  }

  /** A draining node that holds nothing any more is drained: it stays cordoned. */
  async finishDrains(draining: Set<string>, replicas: ReplicaRecord[]): Promise<void> {
    for (const node of draining) {
      if (replicas.some((r) => r.node === node && r.state !== "lost")) continue;
      await this.directory.updateNode(node, { draining: false, cordoned: true });
      await this.events.emit({ type: "NodeDrained", service: null, replica: null, reason: "Drained", message: `node ${node} is drained: its replicas run elsewhere; it stays cordoned (drover node uncordon ${node})` });
    }
  }

  /** Drops a replica's record without reaching its node (gone, or not connected). */
  async forget(record: ReplicaRecord, why: string): Promise<void> {
    await this.store.deleteReplica(record.id);
    await this.events.emit({ type: "ReplicaRemoved", service: record.service, replica: record.id, reason: "Forgotten", message: why });
  }
}
