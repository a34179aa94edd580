/** The change feed of a store only one server uses: wake-ups stay in this process; no other server writes events. */
import type { EventRecord } from "../contract/index.js";
import type { ChangeFeed } from "./store.js";

export class LocalChangeFeed implements ChangeFeed {
  private readonly wakeListeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: EventRecord) => void>();
  protected readonly leaseListeners = new Set<() => void>();

  wake(): void {
    for (const listener of this.wakeListeners) listener();
  }

  onWake(listener: () => void): () => void {
    this.wakeListeners.add(listener);
    return () => this.wakeListeners.delete(listener);
  }

  onEvent(listener: (event: EventRecord) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** No other server to tell. */
  async leaseReleased(): Promise<void> {}

  onLeaseReleased(listener: () => void): () => void {
    this.leaseListeners.add(listener);
    return () => this.leaseListeners.delete(listener);
  }

  /** Hands another server's event to the listeners (the PostgreSQL feed's notifications). */
  deliver(event: EventRecord): void {
    for (const listener of this.eventListeners) listener(event);
  }
}
