/**
 * The web dashboard: its files at `/`, who the caller is, and one-time login links. `drover
 * dashboard` asks for a code (any token may, for its own role); the page trades it, once and
 * within two minutes, for a session token of that role that expires in 12 hours.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { BadRequestError } from "../errors.js";
import { hashToken, newToken } from "../security/tokens.js";
import type { Role } from "../store/records.js";
import type { Store } from "../store/store.js";
import { parseWith } from "./parse.js";

const CODE_TTL_MS = 120_000;
const SESSION_TTL_MS = 12 * 3_600_000;
/** dist/web beside dist/src: the Vite build. */
export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web");

export async function registerDashboardRoutes(app: FastifyInstance, store: Store): Promise<void> {
  const codes = new Map<string, { role: Role; issuer: string; expiresAt: number }>();

  app.get("/api/v1/whoami", async (request) => request.actor);

  app.post("/api/v1/dashboard/codes", async (request) => {
    const code = crypto.randomBytes(24).toString("base64url");
    const now = Date.now();
    for (const [key, value] of codes) if (value.expiresAt < now) codes.delete(key);
    codes.set(code, { role: request.actor!.role, issuer: request.actor!.name, expiresAt: now + CODE_TTL_MS });
    request.audit = { object: "dashboard", summary: `login link for role ${request.actor!.role}` };
    return { code, expiresAt: now + CODE_TTL_MS };
  });

  app.post("/api/v1/dashboard/session", async (request) => {
    const { code } = parseWith(z.strictObject({ code: z.string().min(1).max(100) }), request.body);
    const issued = codes.get(code);
    codes.delete(code);
    if (!issued || issued.expiresAt < Date.now()) throw new BadRequestError("this login link was used already or has expired: run drover dashboard again", "code");
    const token = newToken();
    const now = Date.now();
    const name = `dashboard-${crypto.randomBytes(4).toString("hex")}`;
    await store.insertToken({ name, role: issued.role, hash: hashToken(token), createdAt: now, expiresAt: now + SESSION_TTL_MS, revokedAt: null, lastUsedAt: null });
    return { token, name, role: issued.role, expiresAt: now + SESSION_TTL_MS };
  });

  if (fs.existsSync(path.join(WEB_ROOT, "index.html"))) {
    const { default: fastifyStatic } = await import("@fastify/static");
    await app.register(fastifyStatic, { root: WEB_ROOT, prefix: "/", index: ["index.html"], maxAge: "1h", immutable: false });
  } else {
    app.get("/", async (_request, reply) => reply.type("text/plain").send("the dashboard is not built: npm run build"));
  }
}
