/**
 * The provider's list against the store, per pool: an instance the provider has but the store
 * does not keep (or keeps as gone) is terminated, never leaked; one the store was creating when
 * drover stopped is adopted by its tag; one the store keeps but the provider lost is marked lost,
 * then terminated. Runs every `syncMs`, and at once when the store holds an unfinished create.
 */
import { LIVE_INSTANCE_STATES, type InstanceRecord } from "../../contract/index.js";
import type { EventBus } from "../event-bus.js";
import { serverLog } from "../server-log.js";
import type { InstanceMoves } from "./instance-moves.js";
import type { ActivePool } from "./pool-controller.js";

/** What the sync needs of the controller. */
export interface SyncHooks {
  /** Runs a provider call for one instance beside the loop. */
  run: (id: string, work: () => Promise<void>) => void;
  isBusy: (id: string) => boolean;
  forgetNode: (instance: InstanceRecord) => Promise<void>;
  /** The pool's instances as the store has them now. */
  reload: (pool: string) => Promise<InstanceRecord[]>;
  /** The provider's list answered (error null) or failed. */
  listed: (pool: ActivePool, error: Error | null) => Promise<void>;
}

export class ProviderSync {
  private readonly lastSync = new Map<string, number>();

  private readonly run: SyncHooks["run"];
  private readonly isBusy: SyncHooks["isBusy"];
  private readonly forgetNode: SyncHooks["forgetNode"];

  constructor(
    private readonly moves: InstanceMoves,
    private readonly events: EventBus,
    private readonly hooks: SyncHooks,
    private readonly syncMs: number,
    private readonly now: () => number,
  ) {
    this.run = hooks.run;
    this.isBusy = hooks.isBusy;
    this.forgetNode = hooks.forgetNode;
  }

  async maybeSync(pool: ActivePool): Promise<void> {
    const unfinished = pool.instances.some((i) => i.state === "provisioning" && !this.isBusy(i.id));
    if (!unfinished && this.now() - (this.lastSync.get(pool.record.name) ?? 0) < this.syncMs) return;
    this.lastSync.set(pool.record.name, this.now());
    try {
      await this.syncNow(pool);
    } catch (error) {
      serverLog("warn", "node pools: the provider's list failed", { pool: pool.record.name, error: (error as Error).message });
      await this.hooks.listed(pool, error as Error);
      return;
    }
    await this.hooks.listed(pool, null);
  }

  private async syncNow(pool: ActivePool): Promise<void> {
    const listed = await pool.provider.list();
    // The list may have taken seconds (hosts over SSH): what the store says now, not before it.
    pool.instances = await this.hooks.reload(pool.record.name);
    const byId = new Map(pool.instances.map((i) => [i.id, i]));
    const seen = new Set<string>();
    for (const found of listed) {
      seen.add(found.instance);
      const instance = byId.get(found.instance);
      if (instance && this.isBusy(instance.id)) continue;
      if (instance && (LIVE_INSTANCE_STATES.includes(instance.state) || instance.state === "terminating")) {
        if (instance.providerId === null) await this.moves.move(instance, "booting", `adopted: drover stopped while creating it, and the provider has it as ${found.providerId}`, { providerId: found.providerId, address: found.address });
        continue;
      }
      // Not one of ours any more (or never stored): terminated so it does not run, and cost, unseen.
      this.run(found.instance, async () => {
        await pool.provider.terminate(found.providerId);
        await this.events.emit({ type: "InstanceLeakTerminated", service: null, replica: null, reason: "Unknown", message: `pool ${pool.record.name}: the provider has ${found.providerId} (tagged ${found.instance}), which ${instance ? `the store keeps as ${instance.state}` : "the store does not know"}: terminated` });
      });
    }
    for (const instance of pool.instances) {
      if (seen.has(instance.id) || this.isBusy(instance.id)) continue;
      if (instance.state === "provisioning") {
        await this.moves.move(instance, "failed", "drover stopped while creating it, and the provider has no such instance");
        continue;
      }
      if (!LIVE_INSTANCE_STATES.includes(instance.state) || instance.providerId === null) continue;
      // A list may lag behind a create: asked directly before it is called lost.
      this.run(instance.id, async () => {
        if (await pool.provider.exists(instance.providerId!)) return;
        const lost = await this.moves.move(instance, "lost", "the provider no longer has it");
        await this.moves.move(lost, "terminated", "gone at the provider");
        await this.forgetNode(lost);
      });
    }
  }
}
