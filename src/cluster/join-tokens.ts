/**
 * Join tokens and node credentials. A join token is short-lived and may be used by several nodes
 * until it expires; each node that joins with it gets a credential of its own, which is all it
 * uses afterwards and which `drover node rm` revokes. Only SHA-256 hashes are stored.
 */
import crypto from "node:crypto";
import { hashToken } from "../security/tokens.js";
import type { Store } from "../store/store.js";

export async function createJoinToken(store: Store, ttlMs: number, createdBy: string, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const token = `drvj_${crypto.randomBytes(24).toString("base64url")}`;
  const expiresAt = now + ttlMs;
  await store.insertJoinToken({ hash: hashToken(token), createdAt: now, expiresAt, createdBy });
  return { token, expiresAt };
}

/** Why the token cannot join a node, or null when it can. */
export async function joinTokenProblem(store: Store, token: string, now = Date.now()): Promise<string | null> {
  const found = await store.findJoinToken(hashToken(token));
  if (!found) return "unknown join token";
  if (found.expiresAt <= now) return `the join token expired at ${new Date(found.expiresAt).toISOString()}`;
  return null;
}

export function newNodeCredential(): { credential: string; hash: string } {
  const credential = `drvn_${crypto.randomBytes(32).toString("base64url")}`;
  return { credential, hash: hashToken(credential) };
}

export { hashToken as credentialHash };
