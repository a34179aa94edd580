/**
 * The replicas a service port may send to, and how the next one is chosen: per-revision weights
 * first (a canary's share), then round robin or least connections among that revision's ready
 * replicas. Each backend keeps its own keep-alive pool, so draining one closes exactly its sockets.
 */
import type { Pool } from "undici";
import type { Algorithm, BackendTarget } from "../../contract/index.js";



export interface Backend extends BackendTarget {
  inflight: number;
  /** Keep-alive connections to this replica, made on the first HTTP request (tcp ports need none). */
  pool?: Pool;
}

/**
 * undici, a leaner HTTP client than node:http's (about 45% more requests per second through the
 * router here), costs some 20 MB when loaded: it is loaded with the first HTTP request to proxy.
 */
let undici: typeof import("undici") | undefined;
let loading: Promise<void> | undefined;

export function httpClientLoaded(): boolean {
  return undici !== undefined;
}

export function loadHttpClient(): Promise<void> {
  loading ??= import("undici").then((module) => {
    undici = module;
  });
  return loading;
}

/**
 * How long a connection to a replica may take before the next replica is tried. On loopback or
 * a LAN a connect takes well under a millisecond; one that takes seconds is to a node that went
 * away (its address answers nothing) before heartbeats could say so.
 */
export const CONNECT_TIMEOUT_MS = 3_000;

/** Connect failures: nothing reached the replica, so another may take the request. */
export const UNSENT_CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** The backend's pool; {@link loadHttpClient} must have finished. */
export function poolOf(backend: Backend): Pool {
  backend.pool ??= new undici!.Pool(`http://${backend.host}:${backend.port}`, { connections: 256, pipelining: 1, keepAliveTimeout: 4_000, connectTimeout: CONNECT_TIMEOUT_MS });
  return backend.pool;
}

export class BackendPool {
  private readonly backends = new Map<string, Backend>();
  private readonly drainWaiters = new Map<string, Array<() => void>>();

  /** The backend of a replica port, created on first use. */
  get(target: BackendTarget): Backend {
    const key = `${target.replica}:${target.host}:${target.port}`;
    let backend = this.backends.get(key);
    if (!backend) {
      backend = { ...target, inflight: 0 };
      this.backends.set(key, backend);
    }
    return backend;
  }

  release(backend: Backend): void {
    backend.inflight--;
    if (backend.inflight === 0) {
      const waiters = this.drainWaiters.get(backend.replica);
      if (waiters && this.inflight(backend.replica) === 0) {
        this.drainWaiters.delete(backend.replica);
        for (const resolve of waiters) resolve();
      }
    }
  }

  inflight(replica: string): number {
    let total = 0;
    for (const backend of this.backends.values()) if (backend.replica === replica) total += backend.inflight;
    return total;
  }

  /** Resolves once the replica has no request in flight (or after `timeoutMs`); then its pools close. */
  async drain(replica: string, timeoutMs: number): Promise<void> {
    if (this.inflight(replica) > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        const waiters = this.drainWaiters.get(replica) ?? [];
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        this.drainWaiters.set(replica, waiters);
      });
    }
    this.forget(replica);
  }

  forget(replica: string): void {
    for (const [key, backend] of this.backends) {
      if (backend.replica !== replica) continue;
      void backend.pool?.destroy().catch(() => undefined);
      this.backends.delete(key);
    }
  }

  close(): void {
    for (const backend of this.backends.values()) void backend.pool?.destroy().catch(() => undefined);
    this.backends.clear();
  }
}

/** Picks backends for one service port; state (the round-robin cursor) lives as long as the listener. */
export class Balancer {
  private cursor = 0;
  private weightCursor = 0;

  constructor(private readonly algorithm: Algorithm) {}

  /**
   * The order to try candidates in: the chosen one first, then the rest (for retries).
   * `weights` by revision: a revision with weight 0 gets nothing while another has weight; a
   * revision not listed counts as 0 when weights are given.
   */
  order(candidates: Backend[], weights: Record<string, number> | null): Backend[] {
    if (candidates.length <= 1) return candidates;
    const revision = weights ? this.pickRevision(candidates, weights) : null;
    if (weights && revision !== null) {
      const chosen = candidates.filter((b) => b.revision === revision);
      const rest = candidates.filter((b) => b.revision !== revision && (weights[b.revision] ?? 0) > 0);
      return [...this.arrange(chosen), ...this.arrange(rest)];
    }
    return this.arrange(candidates);
  }

  private arrange(pool: Backend[]): Backend[] {
    if (pool.length <= 1) return pool;
    if (this.algorithm === "least_connections") {
      // Ties go round robin, so equal backends share the load.
      const start = this.cursor++ % pool.length;
      const rotated = [...pool.slice(start), ...pool.slice(0, start)];
      return rotated.sort((a, b) => a.inflight - b.inflight);
    }
    const start = this.cursor++ % pool.length;
    return start === 0 ? pool : [...pool.slice(start), ...pool.slice(0, start)];
  }

  /**
   * Weighted choice among revisions that have a ready backend, deterministic (a low-discrepancy
   * sequence rather than random), so a 10% canary gets 10% of requests even over a few dozen.
   */
  private pickRevision(candidates: Backend[], weights: Record<string, number>): number | null {
    const present = [...new Set(candidates.map((b) => b.revision))].filter((r) => (weights[r] ?? 0) > 0).sort((a, b) => a - b);
    const total = present.reduce((sum, r) => sum + weights[r]!, 0);
    if (total === 0) return null;
    // Golden-ratio sequence over [0, total): evenly spread picks.
    this.weightCursor = (this.weightCursor + 0.6180339887498949) % 1;
    let point = this.weightCursor * total;
    for (const revision of present) {
      point -= weights[revision]!;
      if (point < 0) return revision;
    }
    return present.at(-1)!;
  }
}
