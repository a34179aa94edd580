/**
 * What a revision needs before any of its replicas can start (a container image), got ready in
 * the background so that a long pull never holds up reconciliation, and a missing image is a
 * clear state of the service within seconds instead of a replica failing over and over. A
 * failed preparation is tried again with backoff (10 s doubling to 5 min), like Kubernetes'
 * ImagePullBackOff; each new revision is prepared afresh (so `Always` pulls once per deploy).
 */
import type { ImageRef, NodeAgent } from "../agent/node-agent.js";
import type { EventBus } from "./event-bus.js";

const RETRY_FIRST_MS = 10_000;
const RETRY_MAX_MS = 300_000;

export interface Preparation {
  state: "preparing" | "ready" | "failed";
  /** For `failed`: a word for the reason ("image_unavailable") and the whole story. */
  reason?: string;
  message?: string;
  attempts: number;
  retryAt?: number;
}

export class Preparations {
  /** Keyed by service and revision. */
  private readonly known = new Map<string, Preparation>();

  constructor(
    private readonly agent: NodeAgent,
    private readonly events: EventBus,
    private readonly wake: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The revision's preparation, started (or retried) when due; null when it needs none. */
  check(service: string, revision: number, runtime: string, image: ImageRef | undefined): Preparation | null {
    if (!image) return null;
    const key = `${service}#${revision}`;
    const known = this.known.get(key);
    if (known && (known.state !== "failed" || this.now() < known.retryAt!)) return known;
    const preparation: Preparation = { state: "preparing", attempts: (known?.attempts ?? 0) + 1, reason: known?.reason, message: known?.message };
    this.known.set(key, preparation);
    void this.agent.prepare(runtime, image).then(
      (problem) => this.settle(key, service, image, preparation, problem),
      (error: Error) => this.settle(key, service, image, preparation, { reason: "prepare_error", message: error.message }),
    );
    return preparation;
  }

  /** Why the revision cannot start, when its last preparation failed (kept while it is retried). */
  problem(service: string, revision: number): { reason: string; message: string } | null {
    const known = this.known.get(`${service}#${revision}`);
    return known?.reason && known.state !== "ready" ? { reason: known.reason, message: known.message! } : null;
  }

  /** Forgets revisions of a service other than those given (after a deploy or a delete). */
  prune(service: string, keep: number[]): void {
    for (const key of this.known.keys()) {
      const [name, revision] = key.split("#");
      if (name === service && !keep.includes(Number(revision))) this.known.delete(key);
    }
  }

  private async settle(key: string, service: string, image: ImageRef, preparation: Preparation, problem: { reason: string; message: string } | null): Promise<void> {
    if (this.known.get(key) !== preparation) return;
    if (!problem) {
      this.known.set(key, { state: "ready", attempts: preparation.attempts });
      if (preparation.reason) await this.events.emit({ type: "ImageAvailable", service, replica: null, reason: "Prepared", message: `image ${image.image} is available now` });
    } else {
      const delay = Math.min(RETRY_FIRST_MS * 2 ** (preparation.attempts - 1), RETRY_MAX_MS);
      const changed = problem.message !== preparation.message;
      this.known.set(key, { state: "failed", ...problem, attempts: preparation.attempts, retryAt: this.now() + delay });
      // One event per distinct problem, not one per retry.
      if (changed) await this.events.emit({ type: problem.reason === "image_unavailable" ? "ImageUnavailable" : "PrepareFailed", service, replica: null, reason: problem.reason, message: `${problem.message} (tried again every ${RETRY_FIRST_MS / 1000}s, doubling to ${RETRY_MAX_MS / 60_000} min)` });
    }
    this.wake();
  }
}
