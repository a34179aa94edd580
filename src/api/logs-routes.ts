/** Replica logs: the last lines, optionally followed as a chunked text stream. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { NotFoundError } from "../errors.js";
import type { ControlPlane } from "../server/control-plane.js";
import { parseWith } from "./parse.js";

const querySchema = z.object({
  replica: z.string().optional(),
  tail: z.coerce.number().int().min(0).max(100_000).default(100),
  follow: z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true").default(false),
});

export function registerLogRoutes(app: FastifyInstance, controlPlane: ControlPlane): void {
  app.get<{ Params: { name: string } }>("/api/v1/services/:name/logs", async (request, reply) => {
    const query = parseWith(querySchema, request.query);
    const replicas = await controlPlane.replicas(request.params.name);
    const chosen = query.replica ? replicas.filter((r) => r.id === query.replica) : replicas;
    if (query.replica && chosen.length === 0) {
      throw new NotFoundError(`no replica "${query.replica}" in service ${request.params.name} (replicas: ${replicas.map((r) => r.id).join(", ") || "none"})`);
    }
    const prefix = chosen.length > 1;
    const lines: string[] = [];
    for (const replica of chosen) {
      for (const line of await controlPlane.agent.tailLogs(replica.id, query.tail)) lines.push(prefix ? `[${replica.id}] ${line}` : line);
    }
    const head = lines.length ? `${lines.join("\n")}\n` : "";
    if (!query.follow) return reply.type("text/plain; charset=utf-8").send(head);

    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" });
    reply.raw.write(head);
    const stops = chosen.map((replica) => {
      let partial = "";
      return controlPlane.agent.followLogs(replica.id, (text) => {
        const parts = (partial + text).split("\n");
        partial = parts.pop() ?? "";
        if (parts.length) reply.raw.write(parts.map((line) => (prefix ? `[${replica.id}] ${line}` : line)).join("\n") + "\n");
      });
    });
    request.raw.on("close", () => stops.forEach((stop) => stop()));
  });
}
