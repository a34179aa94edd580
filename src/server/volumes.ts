/**
 * Volumes as the API shows and removes them: each with its node, what it holds now (asked of its
 * node's agent), and the replicas using it. A volume in use is never removed.
 */
import type { NodeAgent, ReplicaRecord, VolumeRecord, VolumeView } from "../contract/index.js";
import { BadRequestError, NotFoundError } from "../errors.js";
import type { ServiceSpec } from "../spec/index.js";
import type { Store } from "../store/store.js";
import type { EventBus } from "./event-bus.js";
import { isFinal } from "./replica-plan.js";
import { replicaVolumes } from "./stateful.js";

export class Volumes {
  constructor(
    private readonly store: Store,
    private readonly agent: NodeAgent,
    private readonly events: EventBus,
  ) {}

  async views(service?: string): Promise<VolumeView[]> {
    const volumes = await this.store.listVolumes(service);
    const users = await this.users();
    const usage = new Map<string, number>();
    for (const node of new Set(volumes.map((v) => v.node))) {
      const sizes = await this.agent.volumeUsage(volumes.filter((v) => v.node === node).map((v) => v.key), node).catch(() => ({}));
      for (const [key, bytes] of Object.entries(sizes)) usage.set(key, bytes);
    }
    return volumes.map((v) => ({ ...v, usedBytes: usage.get(v.key) ?? null, usedBy: users.get(v.key) ?? [] }));
  }

  /** `drover volume rm`: refused while a replica uses it; its folder goes from its node, then its record. */
  async remove(key: string, actor: string): Promise<VolumeRecord> {
    const volume = await this.store.getVolume(key);
    if (!volume) throw new NotFoundError(`no volume "${key}" (drover volume ls lists them)`);
    const users = (await this.users()).get(key) ?? [];
    if (users.length) throw new BadRequestError(`volume ${key} is in use by ${users.join(", ")}: stop or delete ${volume.service} first`);
    await this.agent.removeVolume(key, volume.node);
    await this.store.deleteVolume(key);
    await this.events.emit({ type: "VolumeRemoved", service: volume.service, replica: null, reason: "Removed", message: `volume ${key} on node ${volume.node} removed with its data (by ${actor})` });
    return volume;
  }

  /** Replicas that have not ended for good, by the volume keys they use. */
  private async users(): Promise<Map<string, string[]>> {
    const specs = new Map<string, ServiceSpec | undefined>();
    const byKey = new Map<string, string[]>();
    for (const replica of (await this.store.listReplicas()).filter((r: ReplicaRecord) => !isFinal(r))) {
      const cacheKey = `${replica.service}@${replica.revision}`;
      if (!specs.has(cacheKey)) specs.set(cacheKey, (await this.store.getRevision(replica.service, replica.revision))?.descriptor.spec);
      const spec = specs.get(cacheKey);
      if (!spec?.volumes?.length) continue;
      for (const v of replicaVolumes(replica.service, spec, replica.id)) byKey.set(v.key, [...(byKey.get(v.key) ?? []), replica.id]);
    }
    return byKey;
  }
}
