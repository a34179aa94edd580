/**
 * An instance's state changes: stored with time and reason (the store appends the transition in
 * the same write) and told as an event. Moving to the state it is in changes nothing, so every
 * caller may repeat itself.
 */
import type { InstanceRecord, InstanceState } from "../../contract/index.js";
import type { Store } from "../../store/store.js";
import type { EventBus } from "../event-bus.js";

export class InstanceMoves {
  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly now: () => number,
  ) {}

  /** Records a new instance (the intent, before the provider is asked). */
  async record(instance: InstanceRecord): Promise<InstanceRecord> {
    await this.store.putInstance(instance);
    await this.tell(instance, null);
    return instance;
  }

  async move(instance: InstanceRecord, to: InstanceState, reason: string, patch: Partial<Pick<InstanceRecord, "providerId" | "address">> = {}): Promise<InstanceRecord> {
    if (instance.state === to && Object.keys(patch).length === 0) return instance;
    const now = this.now();
    const next: InstanceRecord = instance.state === to ? { ...instance, ...patch, updatedAt: now } : { ...instance, ...patch, state: to, stateReason: reason, stateSince: now, updatedAt: now };
    await this.store.putInstance(next);
    if (instance.state !== to) await this.tell(next, instance.state);
    return next;
  }

  private async tell(instance: InstanceRecord, from: InstanceState | null): Promise<void> {
    const name = instance.state.charAt(0).toUpperCase() + instance.state.slice(1);
    await this.events.emit({ type: `Instance${name}`, service: null, replica: null, reason: name, message: `pool ${instance.pool}: instance ${instance.id} ${from ? `${from} → ` : ""}${instance.state}: ${instance.stateReason}` });
  }
}
