/**
 * Which server runs the controllers: the holder of the leader lease in the store. Every
 * `renewMs` the lease is claimed (taken when free or expired, renewed when held). A holder that
 * cannot renew stops acting at its own deadline — the claim's send time plus the lease, less a
 * margin — which comes before the lease can expire for the others, so two leaders never act at
 * once; and every controller write is fenced by the term besides (store/fenced-store.ts), so a
 * holder paused past its deadline (SIGSTOP, a long GC) writes nothing when it wakes.
 */
import type { LeaderFence, Lease, Store } from "../store/store.js";

export interface LeaseSettings {
  leaseMs: number;
  renewMs: number;
}

/** Vault and River use 15 s; 10 s with a renewal every 2 s rides out four missed renewals. */
export const DEFAULT_LEASE: LeaseSettings = { leaseMs: 10_000, renewMs: 2_000 };
/** How much earlier than the lease the holder gives up: clocks run at slightly different rates. */
const MARGIN_MS = 500;

export interface LeadershipHooks {
  /** This server now leads in `term`: start the controllers. */
  elected(term: number): Promise<void>;
  /** It leads no more (lost, expired, or stepping down): stop acting at once. */
  deposed(reason: string): Promise<void>;
  log(level: "info" | "warn", message: string, fields?: Record<string, unknown>): void;
}

export class Leadership {
  private held: { fence: LeaderFence; deadline: number } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Elected and deposed run one at a time, in order. */
  private changes: Promise<void> = Promise.resolve();
  private lastError: string | null = null;
  private unwatchRelease: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    readonly id: string,
    private readonly settings: LeaseSettings,
    private readonly hooks: LeadershipHooks,
    private readonly now: () => number = Date.now,
  ) {}

  /** Claims once (so a lone server leads before it returns), then keeps claiming. */
  async start(): Promise<void> {
    // A leader shutting down cleanly says so: a standby claims at once instead of at its next turn.
    this.unwatchRelease = this.store.changes.onLeaseReleased(() => {
      if (this.held || this.stopped) return;
      clearTimeout(this.timer);
      void this.claim().finally(() => this.schedule());
    });
    await this.claim();
    this.schedule();
  }

  /** The fence controller writes carry, or null when this server must not act. */
  fence(): LeaderFence | null {
    return this.held && this.now() < this.held.deadline ? this.held.fence : null;
  }

  get leading(): boolean {
    return this.fence() !== null;
  }

  /** The lease as the store has it (any holder), for doctor and the API. */
  lease(): Promise<Lease | null> {
    return this.store.readLease();
  }

  /** Steps down and hands the lease over at once (a clean shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatchRelease?.();
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    const held = this.held;
    if (held) {
      this.lose("this server is shutting down");
      await this.changes;
      await this.store.releaseLease(held.fence).catch(() => undefined);
      await this.store.changes.leaseReleased();
    }
    await this.changes;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.claim().finally(() => this.schedule()), this.settings.renewMs).unref();
  }

  private async claim(): Promise<void> {
    const sentAt = this.now();
    let lease: Lease;
    try {
      lease = await this.store.claimLease(this.id, this.settings.leaseMs);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastError) this.hooks.log("warn", `cannot renew the leader lease: ${message}`);
      this.lastError = message;
      // Still leading until the deadline the last renewal gave: the watchdog ends it.
      return;
    }
    this.lastError = null;
    if (this.stopped) return;
    // Paused between sending and hearing back (SIGSTOP): whatever the answer says is old news.
    if (this.now() - sentAt >= this.settings.leaseMs - MARGIN_MS) return this.lose("the lease renewal came back too late");
    if (lease.holder !== this.id) return this.lose(`${lease.holder} leads in term ${lease.term}`);
    if (this.held && this.held.fence.term !== lease.term) this.lose(`the lease was lost and taken again (term ${this.held.fence.term} is over)`);
    const deadline = sentAt + this.settings.leaseMs - MARGIN_MS;
    const fresh = !this.held;
    this.held = { fence: { holder: this.id, term: lease.term }, deadline };
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.expire(), deadline - this.now()).unref();
    if (fresh) {
      this.hooks.log("info", `this server leads (term ${lease.term})`, { term: lease.term });
      const term = lease.term;
      this.changes = this.changes.then(() => this.hooks.elected(term)).catch((error: Error) => this.hooks.log("warn", `starting the controllers failed: ${error.message}`));
    }
  }

  private expire(): void {
    if (this.held && this.now() >= this.held.deadline) this.lose("the lease could not be renewed in time");
  }

  private lose(reason: string): void {
    if (!this.held) return;
    const term = this.held.fence.term;
    this.held = null;
    clearTimeout(this.watchdog);
    this.hooks.log("warn", `this server no longer leads (term ${term}): ${reason}`, { term });
    this.changes = this.changes.then(() => this.hooks.deposed(reason)).catch((error: Error) => this.hooks.log("warn", `stopping the controllers failed: ${error.message}`));
  }
}
