/** Node pools: list and describe (viewer), scale and remove (operator). Pools themselves come with `drover apply` (kind: NodePool). */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { BadRequestError, NotFoundError } from "../errors.js";
import type { ControlPlane } from "../server/control-plane.js";
import { parseWith } from "./parse.js";

const scaleSchema = z.strictObject({ desired: z.number().int({ error: "expected a whole number of nodes" }).min(0, { error: "must be 0 or more" }) });

export function registerPoolRoutes(app: FastifyInstance, controlPlane: ControlPlane): void {
  app.get<{ Querystring: { archived?: string } }>("/api/v1/pools", async (request) => ({ pools: await controlPlane.nodePools.views({ archived: request.query.archived === "1" }) }));

  app.get<{ Params: { name: string } }>("/api/v1/pools/:name", async (request) => {
    const pool = (await controlPlane.nodePools.views({ archived: true, name: request.params.name }))[0];
    if (!pool) throw new NotFoundError(`no node pool named "${request.params.name}"`);
    return { pool };
  });

  app.delete<{ Params: { name: string } }>("/api/v1/pools/:name", async (request) => {
    const record = await controlPlane.store.getPool(request.params.name);
    if (!record) throw new NotFoundError(`no node pool named "${request.params.name}"`);
    await controlPlane.store.updatePool(record.name, { deleting: true });
    request.audit = { object: `pool ${record.name}`, summary: "remove" };
    await controlPlane.events.emit({ type: "NodePoolDeleting", service: null, replica: null, reason: "Removing", message: `pool ${record.name}: its instances are drained and terminated, then the pool goes (by ${request.actor?.name ?? "a user"})` });
    return { pool: (await controlPlane.nodePools.views({ name: record.name }))[0] };
  });

  app.post<{ Params: { name: string } }>("/api/v1/pools/:name/scale", async (request) => {
    const { desired } = parseWith(scaleSchema, request.body);
    const record = await controlPlane.store.getPool(request.params.name);
    if (!record) throw new NotFoundError(`no node pool named "${request.params.name}"`);
    if (record.deleting) throw new BadRequestError(`pool ${record.name} is being removed (apply its descriptor again to keep it)`);
    const { min, max } = record.document.spec;
    if (desired < min || desired > max) throw new BadRequestError(`desired: ${desired} is outside the pool's min ${min} and max ${max} (change them in its NodePool descriptor)`);
    await controlPlane.store.updatePool(record.name, { desired });
    request.audit = { object: `pool ${record.name}`, summary: `scale to ${desired}` };
    await controlPlane.events.emit({ type: "NodePoolScaled", service: null, replica: null, reason: "Manual", message: `pool ${record.name} scaled to ${desired} by ${request.actor?.name ?? "a user"}` });
    return { pool: (await controlPlane.nodePools.views({ name: record.name }))[0] };
  });
}
