/**
 * The API token: a random secret in DROVER_HOME/api.token, readable by the owner only. The
 * server creates it and demands it on every request but /health; the CLI sends it. Whoever can
 * read the state folder can drive drover, and nobody else — without it, any local user could
 * make a drover running as root start programs. (Tokens with roles arrive with the security work.)
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

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

/** Constant-time comparison of an `Authorization` header with the token. */
export function isAuthorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith("Bearer ") ? header.slice(7) : "");
  const expected = Buffer.from(token);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
