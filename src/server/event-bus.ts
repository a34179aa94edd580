/** Records events in the store and hands them to live subscribers (the event stream). */
import type { EventInput, EventRecord } from "../contract/index.js";
import type { Store } from "../store/store.js";

export class EventBus {
  constructor(
    private readonly store: Store,
    /** Hides secret values a message may carry (from a workload's output, say). */
    private readonly redact: (text: string) => string = (text) => text,
    private readonly subscribers = new Set<(event: EventRecord) => void>(),
  ) {}

  /** The same stream, its events written through `store` (the controllers' fenced store). */
  writingTo(store: Store): EventBus {
    return new EventBus(store, this.redact, this.subscribers);
  }

  async emit(event: EventInput): Promise<EventRecord> {
    const record = await this.store.appendEvent({ ...event, message: this.redact(event.message) });
    this.publish([record]);
    return record;
  }

  /** For events the store already wrote (inside a transaction). */
  publish(events: EventRecord[]): void {
    for (const event of events) for (const subscriber of this.subscribers) subscriber(event);
  }

  subscribe(subscriber: (event: EventRecord) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }
}
