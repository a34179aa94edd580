/**
 * API tokens with roles. A token is shown once, when it is made; drover keeps only its SHA-256
 * and compares hashes in constant time. Roles nest: a viewer reads; an operator also applies,
 * scales, restarts and rolls back; an admin also manages tokens, secrets, policies, the audit
 * trail, backups and the server itself. Repeated failed authentication from one address is
 * answered more and more slowly, so guessing costs time.
 */
import crypto from "node:crypto";
import type { Role, TokenRecord } from "../contract/index.js";
import type { Store } from "../store/store.js";

export const ROLES: Role[] = ["viewer", "operator", "admin"];

export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

export function newToken(): string {
  return `drv_${crypto.randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return crypto.createHash("sha256").update(token).digest("hex");
}

export type Authentication = { ok: true; token: TokenRecord } | { ok: false; reason: string };

/** Failures beyond this many within FAILURE_WINDOW_MS are slowed down. */
const FREE_FAILURES = 3;
const FAILURE_WINDOW_MS = 60_000;
const MAX_DELAY_MS = 3_000;

export class Authenticator {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(header: string | undefined): Promise<Authentication> {
    const presented = header?.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!presented) return { ok: false, reason: "no bearer token" };
    const hash = hashToken(presented);
    const token = await this.store.findTokenByHash(hash);
    // The lookup is by hash; comparing the hashes again in constant time costs nothing and rules out a timing side channel.
    if (!token || !crypto.timingSafeEqual(Buffer.from(token.hash, "hex"), Buffer.from(hash, "hex"))) return { ok: false, reason: "unknown token" };
    const now = this.now();
    if (token.revokedAt !== null) return { ok: false, reason: `token "${token.name}" was revoked` };
    if (token.expiresAt !== null && token.expiresAt <= now) return { ok: false, reason: `token "${token.name}" expired at ${new Date(token.expiresAt).toISOString()}` };
    // Last use, at most once a minute per token: a write per request would be a cost for nothing.
    if (token.lastUsedAt === null || now - token.lastUsedAt > 60_000) await this.store.updateToken(token.name, { lastUsedAt: now });
    return { ok: true, token };
  }

  /** How long to hold back the answer to a failed attempt from `address` (0 for the first few). */
  failed(address: string): number {
    const now = this.now();
    const previous = this.failures.get(address);
    const count = previous && now - previous.last < FAILURE_WINDOW_MS ? previous.count + 1 : 1;
    this.failures.set(address, { count, last: now });
    if (this.failures.size > 10_000) this.failures.clear(); // a flood of addresses must not grow memory without end
    return count <= FREE_FAILURES ? 0 : Math.min(MAX_DELAY_MS, 100 * 2 ** (count - FREE_FAILURES - 1));
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}

/** A duration like 30d, 12h or 90m as milliseconds (token lifetimes). */
export function parseLifetime(text: string): number {
  const match = /^(\d+)\s*(m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`expected a lifetime such as 30d, 12h or 90m, got "${text}"`);
  return Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "m" | "h" | "d"];
}
