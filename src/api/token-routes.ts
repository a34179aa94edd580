/** Tokens: list (never the secret), create (the secret shown once), revoke. Admin only (see access.ts). */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ConflictError, NotFoundError } from "../errors.js";
import { hashToken, newToken, parseLifetime, ROLES } from "../security/tokens.js";
import type { Store } from "../store/store.js";
import { parseWith } from "./parse.js";

const createSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/, { error: "lowercase letters, digits, '-', '_' and '.'" }).max(63),
  role: z.enum(ROLES as ["viewer", "operator", "admin"]),
  expires: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      try {
        return parseLifetime(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
});

export function registerTokenRoutes(app: FastifyInstance, store: Store): void {
  app.get("/api/v1/tokens", async () => ({ tokens: (await store.listTokens()).map(({ hash: _hash, ...token }) => token) }));

  app.post("/api/v1/tokens", async (request) => {
    const body = parseWith(createSchema, request.body);
    if ((await store.listTokens()).some((t) => t.name === body.name)) throw new ConflictError(`a token named "${body.name}" exists (revoked tokens keep their name)`);
    const token = newToken();
    const now = Date.now();
    const record = { name: body.name, role: body.role, hash: hashToken(token), createdAt: now, expiresAt: body.expires === undefined ? null : now + body.expires, revokedAt: null, lastUsedAt: null };
    await store.insertToken(record);
    request.audit = { object: `token ${body.name}`, summary: `role ${body.role}${record.expiresAt ? `, expires ${new Date(record.expiresAt).toISOString()}` : ""}` };
    const { hash: _hash, ...shown } = record;
    return { token, ...shown };
  });

  app.delete<{ Params: { name: string } }>("/api/v1/tokens/:name", async (request) => {
    const token = (await store.listTokens()).find((t) => t.name === request.params.name);
    if (!token) throw new NotFoundError(`no token named "${request.params.name}"`);
    if (token.revokedAt === null) await store.updateToken(token.name, { revokedAt: Date.now() });
    request.audit = { object: `token ${token.name}`, summary: "revoked" };
    return { name: token.name, revoked: true };
  });
}
