/**
 * What a revision needs before any of its replicas can start (a container image), got ready in
 * the background so that a long pull never holds up reconciliation, and a missing image is a
 * clear state of the service within seconds instead of a replica failing over and over. A
 * failed preparation is tried again with backoff (10 s doubling to 5 min), like Kubernetes'
 * ImagePullBackOff; each new revision is prepared afresh (so `Always` pulls once per deploy).
 */
import type { EventBus } from "./event-bus.js";
import type { ImageRef, NodeAgent } from "../contract/index.js";

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
  /** By service, then revision. */
  private readonly known = new Map<string, Map<number, Preparation>>();

  constructor(
    private readonly agent: NodeAgent,
    private readonly events: EventBus,
    private readonly wake: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The revision's preparation, started (or retried) when due; null when it needs none. */
  check(service: string, revision: number, runtime: string, image: ImageRef | undefined): Preparation | null {
    if (!image) return null;
    let revisions = this.known.get(service);
    if (!revisions) this.known.set(service, (revisions = new Map()));
    const known = revisions.get(revision);
    if (known && (known.state !== "failed" || this.now() < known.retryAt!)) return known;
    const preparation: Preparation = { state: "preparing", attempts: (known?.attempts ?? 0) + 1, reason: known?.reason, message: known?.message };
    revisions.set(revision, preparation);
    void this.agent.prepare(runtime, image).then(
      (problem) => this.settle(revisions, revision, service, image, preparation, problem),
      (error: Error) => this.settle(revisions, revision, service, image, preparation, { reason: "prepare_error", message: error.message }),
    );
    return preparation;
  }

  /** Why the revision cannot start, when its last preparation failed (kept while it is retried). */
  problem(service: string, revision: number): { reason: string; message: string } | null {
    const known = this.known.get(service)?.get(revision);
    return known?.reason && known.state !== "ready" ? { reason: known.reason, message: known.message! } : null;
  }

  /** Forgets the service's other revisions (after a deploy or a rollback): only the current one is ever started anew. */
  keepOnly(service: string, revision: number): void {
    const revisions = this.known.get(service);
    if (!revisions || (revisions.size === 1 && revisions.has(revision))) return;
    for (const known of [...revisions.keys()]) if (known !== revision) revisions.delete(known);
  }

  forget(service: string): void {
    this.known.delete(service);
  }

  private async settle(revisions: Map<number, Preparation>, revision: number, service: string, image: ImageRef, preparation: Preparation, problem: { reason: string; message: string } | null): Promise<void> {
    if (revisions.get(revision) !== preparation) return;
    if (!problem) {
      revisions.set(revision, { state: "ready", attempts: preparation.attempts });
      if (preparation.reason) await this.events.emit({ type: "ImageAvailable", service, replica: null, reason: "Prepared", message: `image ${image.image} is available now` });
    } else {
      const delay = Math.min(RETRY_FIRST_MS * 2 ** (preparation.attempts - 1), RETRY_MAX_MS);
      const changed = problem.message !== preparation.message;
      revisions.set(revision, { state: "failed", ...problem, attempts: preparation.attempts, retryAt: this.now() + delay });
      // One event per distinct problem, not one per retry.
      if (changed) await this.events.emit({ type: problem.reason === "image_unavailable" ? "ImageUnavailable" : "PrepareFailed", service, replica: null, reason: problem.reason, message: `${problem.message} (tried again every ${RETRY_FIRST_MS / 1000}s, doubling to ${RETRY_MAX_MS / 60_000} min)` });
    }
    this.wake();
  }
}
