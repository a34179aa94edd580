/**
 * The change feed across servers on one PostgreSQL: LISTEN on a connection of its own, NOTIFY in
 * the writer's transaction (so a notice arrives only for what committed). A wake-up from any
 * server wakes the leader's controllers at once; an event notice carries the event's id, read
 * back and handed to this server's event stream. The connection comes back by itself after the
 * database restarts; a pass is asked for then, since notices sent meanwhile are lost.
 */
import pg from "pg";
import type { EventRecord } from "../../contract/index.js";
import { LocalChangeFeed } from "../local-change-feed.js";

export const WAKE_CHANNEL = "drover_wake";
export const EVENT_CHANNEL = "drover_events";
export const LEASE_CHANNEL = "drover_lease";
const RECONNECT_MS = 1_000;

export class NotifyFeed extends LocalChangeFeed {
  private client: pg.Client | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: pg.ClientConfig,
    /** This server's mark on its own notices (they are not news to it). */
    readonly origin: string,
    private readonly readEvents: (ids: number[]) => Promise<EventRecord[]>,
    private readonly send: (channel: string, payload: string) => Promise<void>,
    private readonly log: (message: string) => void,
  ) {
    super();
  }

  async start(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on("error", () => undefined);
    client.on("end", () => this.lost(client));
    client.on("notification", (notice) => void this.notice(notice.channel, notice.payload ?? "").catch(() => undefined));
    await client.connect();
    await client.query(`LISTEN ${WAKE_CHANNEL}; LISTEN ${EVENT_CHANNEL}; LISTEN ${LEASE_CHANNEL}`);
    this.client = client;
  }

  override wake(): void {
    super.wake();
    void this.send(WAKE_CHANNEL, this.origin).catch(() => undefined);
  }

  override async leaseReleased(): Promise<void> {
    await this.send(LEASE_CHANNEL, this.origin).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }

  private async notice(channel: string, payload: string): Promise<void> {
    const [origin, id] = payload.split(" ");
    if (origin === this.origin) return;
    if (channel === WAKE_CHANNEL) return super.wake();
    if (channel === LEASE_CHANNEL) {
      for (const listener of this.leaseListeners) listener();
      return;
    }
    for (const event of await this.readEvents([Number(id)])) this.deliver(event);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    this.log("lost the notification connection to PostgreSQL; reconnecting");
    const retry = () => {
      this.timer = null;
      if (this.closed) return;
      this.start()
        .then(() => {
          this.log("notification connection to PostgreSQL back");
          super.wake();
        })
        .catch(() => (this.timer = setTimeout(retry, RECONNECT_MS).unref()));
    };
    this.timer = setTimeout(retry, RECONNECT_MS).unref();
  }
}
