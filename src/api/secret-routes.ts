/** Secrets: list (names and keys only), set keys, delete. Admin only (see access.ts). Values go in, never out. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ControlPlane } from "../server/control-plane.js";
import { dataKey } from "../spec/index.js";
import { parseWith } from "./parse.js";

const setSchema = z.strictObject({
  data: z.record(dataKey, z.string()).refine((d) => Object.keys(d).length > 0, { error: "at least one key" }),
  replace: z.boolean().default(false),
  author: z.string().default("api"),
});

export function registerSecretRoutes(app: FastifyInstance, controlPlane: ControlPlane): void {
  app.get("/api/v1/secrets", async () => ({ secrets: await controlPlane.configObjects.listSecrets() }));

  app.put<{ Params: { name: string } }>("/api/v1/secrets/:name", async (request) => {
    const body = parseWith(setSchema, request.body);
    const result = await controlPlane.configObjects.setSecret(request.params.name, body.data, { replace: body.replace, author: body.author });
    request.audit = { object: `secret ${result.name}`, summary: result.changedKeys.length ? `keys changed: ${result.changedKeys.join(", ")} (version ${result.version})${result.services.length ? `; new revisions of ${result.services.map((s) => s.name).join(", ")}` : ""}` : "unchanged" };
    return result;
  });

  app.delete<{ Params: { name: string } }>("/api/v1/secrets/:name", async (request) => {
    await controlPlane.configObjects.deleteSecret(request.params.name);
    request.audit = { object: `secret ${request.params.name}`, summary: "deleted" };
    return { name: request.params.name, deleted: true };
  });
}
