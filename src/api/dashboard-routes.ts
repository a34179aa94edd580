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
import type { Role } from "../contract/index.js";
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

  // The build is an index.html and content-hashed assets: served by hand, because a static-file
  // plugin with its MIME database costs ~10 MB of memory in a server whose budget is 80.
  app.get("/", async (_request, reply) => {
    const index = path.join(WEB_ROOT, "index.html");
    if (!fs.existsSync(index)) return reply.type("text/plain").send("the dashboard is not built: npm run build");
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(fs.createReadStream(index));
  });
  app.get<{ Params: { "*": string } }>("/assets/*", async (request, reply) => {
    const file = path.resolve(WEB_ROOT, "assets", request.params["*"]);
    const type = CONTENT_TYPES[path.extname(file)];
    if (!file.startsWith(path.join(WEB_ROOT, "assets") + path.sep) || !type || !fs.existsSync(file)) return reply.code(404).send({ error: "not_found", message: "no such file" });
    // Names carry a hash of their content: a file never changes under its name.
    return reply.type(type).header("cache-control", "public, max-age=31536000, immutable").send(fs.createReadStream(file));
  });
}

const CONTENT_TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2" };
