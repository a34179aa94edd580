/**
 * The API token: a random secret in DROVER_HOME/api.token, readable by the owner only. The
 * server creates it and demands it on every request but /health; the CLI sends it. Whoever can
 * read the state folder can drive drover, and nobody else — without it, any local user could
 * make a drover running as root start programs. It is the first admin token; `drover token create`
 * makes others, with roles.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Store } from "../store/store.js";
import { hashToken } from "./tokens.js";

export const TOKEN_FILE = "api.token";

export function ensureApiToken(home: string): string {
  const existing = readApiToken(home);
  if (existing) return existing;
  const token = crypto.randomBytes(32).toString("base64url");
  const file = path.join(home, TOKEN_FILE);
  fs.writeFileSync(`${file}.tmp`, `${token}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
  return token;
}

export function readApiToken(home: string): string | undefined {
  try {
    return fs.readFileSync(path.join(home, TOKEN_FILE), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The token in DROVER_HOME/api.token is the first admin: registered (by its hash) when the store
 * has no token with that hash, so the CLI on this machine keeps working and can make the others.
 */
export async function registerHomeToken(store: Store, token: string, now = Date.now()): Promise<void> {
  const hash = hashToken(token);
  if (await store.findTokenByHash(hash)) return;
  const names = new Set((await store.listTokens()).map((t) => t.name));
  let name = "admin";
  for (let i = 2; names.has(name); i++) name = `admin-${i}`;
  await store.insertToken({ name, role: "admin", hash, createdAt: now, expiresAt: null, revokedAt: null, lastUsedAt: null });
}
