/** The event log: a page of past events, or a server-sent-events stream of new ones. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ControlPlane } from "../server/control-plane.js";
import type { EventRecord } from "../contract/index.js";
import { parseWith } from "./parse.js";

const querySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  service: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(200),
  follow: z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true").default(false),
});

export function registerEventRoutes(app: FastifyInstance, controlPlane: ControlPlane): void {
  app.get("/api/v1/events", async (request, reply) => {
    const query = parseWith(querySchema, request.query);
    // Events name a service or a job (jobs' events carry the job's name).
    const service = query.service ? ((await controlPlane.jobs.find(query.service))?.name ?? (await controlPlane.resolveName(query.service))) : undefined;
    const past = await controlPlane.store.listEvents({ afterId: query.after, service, limit: query.limit });
    if (!query.follow) return { events: past };

    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const send = (event: EventRecord) => reply.raw.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    let lastSent = past.at(-1)?.id ?? query.after;
    past.forEach(send);
    const unsubscribe = controlPlane.subscribe((event) => {
      if (event.id <= lastSent || (service && event.service !== service)) return;
      lastSent = event.id;
      send(event);
    });
    // A comment line now and then keeps proxies and idle timeouts from closing the stream.
    const heartbeat = setInterval(() => reply.raw.write(": keep-alive\n\n"), 15_000);
    request.raw.on("close", () => {
      unsubscribe();
      clearInterval(heartbeat);
    });
  });
}
