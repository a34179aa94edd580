/** Volumes: list with their node, use and users (viewer); remove one no replica uses (operator). */
import type { FastifyInstance } from "fastify";
import type { ControlPlane } from "../server/control-plane.js";

export function registerVolumeRoutes(app: FastifyInstance, controlPlane: ControlPlane): void {
  app.get<{ Querystring: { service?: string } }>("/api/v1/volumes", async (request) => {
    // A deleted service's volumes stay: they are asked for by the name it had.
    const asked = request.query.service;
    const service = asked ? await controlPlane.resolveName(asked).catch(() => (asked.includes("/") ? asked : `default/${asked}`)) : undefined;
    return { volumes: await controlPlane.volumes.views(service) };
  });

  /** The key is `namespace/service/name`, URL-encoded as one segment. */
  app.delete<{ Params: { key: string } }>("/api/v1/volumes/:key", async (request) => {
    const volume = await controlPlane.volumes.remove(request.params.key, request.actor?.name ?? "a user");
    request.audit = { object: `volume ${volume.key}`, summary: "remove" };
    return { volume };
  });
}
