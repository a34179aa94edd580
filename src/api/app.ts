/**
 * The HTTP API (fastify), versioned under /api/v1. Client mistakes are 400/404/409 with a
 * message that names the field; only drover's own faults are 500.
 */
import type { ServerRoleView } from "../contract/index.js";
import Fastify, { type FastifyInstance } from "fastify";
import { z } from "zod";
import { BadRequestError, DroverError } from "../errors.js";
import type { ControlPlane } from "../server/control-plane.js";
import { Authenticator, roleAllows } from "../security/tokens.js";
import { AuditTrail } from "../security/audit-trail.js";
import { createBackup } from "../security/backup.js";
import { actionName, READ_ONLY_POSTS, requiredRole } from "./access.js";
import { registerTokenRoutes } from "./token-routes.js";
import { registerDashboardRoutes } from "./dashboard-routes.js";
import { registerSecretRoutes } from "./secret-routes.js";
import { parseDuration, SpecError } from "../spec/index.js";
import { registerLogRoutes } from "./logs-routes.js";
import { registerEventRoutes } from "./events-routes.js";
import { registerNodeRoutes, type ClusterAccess } from "./node-routes.js";
import { registerDatabaseRoutes } from "./database-routes.js";
import { registerJobRoutes } from "./job-routes.js";
import { registerPoolRoutes } from "./pool-routes.js";
import { registerVolumeRoutes } from "./volume-routes.js";
import { parseWith } from "./parse.js";
import { VERSION } from "../version.js";
import type { DroverMetrics } from "./metrics.js";

const fileSchema = z.object({ file: z.string().min(1), text: z.string(), baseDir: z.string().min(1), signature: z.string().max(200).optional() });
const applySchema = z.object({
  files: z.array(fileSchema).min(1),
  prune: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  author: z.string().default("api"),
  message: z.string().default(""),
});

export const BODY_LIMIT = 4 * 1024 * 1024;

const scaleSchema = z.object({ replicas: z.number().int().min(0) });
const rolloutActionSchema = z.object({ action: z.enum(["pause", "resume", "promote", "abort", "undo"]) });
const rollbackSchema = z.strictObject({ to: z.number().int().min(1).optional(), strategy: z.enum(["immediate", "gradual", "canary"]).optional(), author: z.string().optional() });
const revisionNumber = z.coerce.number().int().min(1);
/** `since`: a duration back from now ("15m") or epoch milliseconds; `step`: a duration. */
const historySchema = z.object({
  since: z
    .string()
    .default("15m")
    .transform((value, ctx) => {
      if (/^\d{12,}$/.test(value)) return Number(value);
      try {
        return Date.now() - parseDuration(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `expected a duration such as 15m or epoch milliseconds: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  step: z
    .string()
    .default("0")
    .transform((value, ctx) => {
      try {
        return parseDuration(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
});
const diffSchema = z.object({ from: revisionNumber, to: revisionNumber });

export async function buildApi(controlPlane: ControlPlane, options: { home: string; onShutdown?: () => void; tls?: { cert: Buffer; key: Buffer }; cluster?: ClusterAccess; role?: () => Promise<ServerRoleView> }): Promise<FastifyInstance> {
  // Bodies are descriptors and small JSON: 4 MiB is room for thousands of services and a bound on what a client can make drover hold.
  const app = (options.tls ? Fastify({ logger: false, bodyLimit: BODY_LIMIT, https: options.tls }) : Fastify({ logger: false, bodyLimit: BODY_LIMIT })) as unknown as FastifyInstance;
  const authenticator = new Authenticator(controlPlane.store);
  const audit = new AuditTrail(controlPlane.store, options.home);
  app.decorateRequest("actor", null);
  app.decorateRequest("audit", null);

  app.addHook("onRequest", async (request, reply) => {
    const needed = requiredRole(request.method, request.routeOptions.url ?? request.url);
    if (needed === null) return;
    const result = await authenticator.authenticate(request.headers.authorization);
    if (!result.ok) {
      const delay = authenticator.failed(request.ip);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      return reply.status(401).send({ error: "unauthorized", message: `${result.reason}: send "Authorization: Bearer <token>" (the CLI reads ${options.home}/api.token or DROVER_TOKEN)` });
    }
    authenticator.succeeded(request.ip);
    const { name, role } = result.token;
    if (!roleAllows(role, needed)) return reply.status(403).send({ error: "forbidden", message: `token "${name}" has role ${role}; ${request.method} ${request.routeOptions.url} needs ${needed}` });
    request.actor = { name, role };
  });

  // Every change that succeeded goes into the audit trail before its answer leaves.
  app.addHook("onSend", async (request, reply, payload) => {
    const url = request.routeOptions.url ?? request.url;
    if (request.method === "GET" || request.method === "HEAD" || READ_ONLY_POSTS.has(url) || reply.statusCode >= 400 || !request.actor) return payload;
    const params = request.params as { name?: string };
    const detail = request.audit ?? { object: params.name ?? "-", summary: "" };
    await audit.record({ actor: request.actor.name, role: request.actor.role, action: actionName(request.method, url), object: detail.object, summary: detail.summary });
    return payload;
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof SpecError) {
      return reply.status(400).send({ error: "invalid_descriptor", message: error.message, issues: error.issues });
    }
    if (error instanceof DroverError) return reply.status(error.status).send({ error: error.code, message: error.message });
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send({ error: "bad_request", message: (error as Error).message });
    }
    process.stderr.write(`drover: internal error on ${_request.method} ${_request.url}: ${(error as Error).stack ?? String(error)}\n`);
    return reply.status(500).send({ error: "internal", message: "drover hit an internal error; the server log has the details" });
  });

  app.get("/api/v1/health", async () => ({ status: "ok", pid: process.pid, home: options.home }));
  // Liveness of drover itself: the event loop answers.
  app.get("/healthz", async () => ({ status: "ok" }));
  // Readiness: the store answers too. A standby is ready: it serves the API as the leader does.
  app.get("/readyz", async (_request, reply) => {
    const store = await controlPlane.store.probe();
    if (!store.writable) return reply.code(503).send({ status: "not ready", reason: `store: ${store.error}` });
    return { status: "ready", storeLatencyMs: store.latencyMs, role: controlPlane.leading ? "leader" : "standby" };
  });
  // Created on the first scrape: prom-client's process metrics watch the event loop continuously, a cost only worth paying when someone reads them.
  let metrics: Promise<DroverMetrics> | undefined;
  app.get("/metrics", async (_request, reply) => {
    metrics ??= import("./metrics.js").then(({ DroverMetrics }) => new DroverMetrics(controlPlane));
    const ready = await metrics;
    return reply.type(ready.contentType()).send(await ready.scrape());
  });
  app.get("/api/v1/info", async () => {
    const sample = controlPlane.agent.metrics();
    const store = await controlPlane.store.probe();
    return {
      pid: process.pid,
      home: options.home,
      version: VERSION,
      uptimeSeconds: Math.round(process.uptime()),
      storeLatencyMs: store.latencyMs,
      storeWritable: store.writable,
      storeError: store.error ?? null,
      filesystem: sample.host?.filesystem ?? null,
      energySource: sample.energy.source,
      agent: controlPlane.agent.info(),
      role: (await options.role?.().catch(() => null)) ?? null,
    };
  });

  app.post("/api/v1/plan", async (request) => {
    const body = parseWith(applySchema, request.body);
    const { entries, warnings } = await controlPlane.planner.plan(body.files, body.prune);
    return { entries, warnings };
  });
  app.post("/api/v1/apply", async (request) => {
    const body = parseWith(applySchema, request.body);
    const result = await controlPlane.apply(body.files, { ...body, mayChangePolicies: request.actor?.role === "admin" });
    const changed = result.entries.filter((e) => e.action !== "unchanged");
    // Secrets appear by name and changed keys only: plan entries never carry their values.
    request.audit = { object: changed.map((e) => `${e.kind} ${e.name}`).join(", ") || "-", summary: body.dryRun ? "dry run" : changed.map((e) => `${e.action} ${e.kind} ${e.name}${e.changes.length ? ` (${e.changes.map((c) => c.path).join(", ")})` : ""}`).join("; ") || "nothing changed" };
    return result;
  });

  app.get("/api/v1/services", async () => ({ services: await controlPlane.listServices() }));
  app.get<{ Params: { name: string } }>("/api/v1/services/:name", async (request) => controlPlane.describe(request.params.name));
  app.get<{ Params: { name: string } }>("/api/v1/services/:name/revisions", async (request) => ({
    revisions: await controlPlane.history(request.params.name),
  }));
  app.post<{ Params: { name: string } }>("/api/v1/services/:name/scale", async (request) => {
    const { replicas } = parseWith(scaleSchema, request.body);
    const service = await controlPlane.scale(request.params.name, replicas);
    request.audit = { object: service.name, summary: `replicas ${replicas}` };
    return { service };
  });
  app.post<{ Params: { name: string } }>("/api/v1/services/:name/stop", async (request) => ({ service: await controlPlane.stopService(request.params.name) }));
  app.post<{ Params: { name: string } }>("/api/v1/services/:name/start", async (request) => ({ service: await controlPlane.startService(request.params.name) }));
  app.post<{ Params: { name: string } }>("/api/v1/services/:name/restart", async (request) => ({
    applied: await controlPlane.restartService(request.params.name, authorOf(request.body)),
  }));
  app.get<{ Params: { name: string }; Querystring: Record<string, string> }>("/api/v1/services/:name/metrics", async (request) => {
    const { since, step } = parseWith(historySchema, request.query);
    return controlPlane.metricHistory(request.params.name, since, step);
  });
  app.get("/api/v1/top", async () => controlPlane.top());
  app.get<{ Params: { name: string } }>("/api/v1/services/:name/traffic", async (request) => controlPlane.traffic(request.params.name));
  app.get<{ Params: { name: string } }>("/api/v1/services/:name/rollout", async (request) => controlPlane.rolloutStatus(request.params.name));
  app.get<{ Params: { name: string } }>("/api/v1/services/:name/autoscale", async (request) => controlPlane.autoscaleStatus(request.params.name));
  app.get<{ Params: { name: string } }>("/api/v1/services/:name/recommendations", async (request) => controlPlane.recommendations(request.params.name));
  app.post<{ Params: { name: string; action: string } }>("/api/v1/services/:name/rollout/:action", async (request) => {
    const { action } = parseWith(rolloutActionSchema, request.params);
    return controlPlane.rolloutCommand(request.params.name, action, authorOf(request.body));
  });
  app.post<{ Params: { name: string } }>("/api/v1/services/:name/rollback", async (request) => {
    const body = parseWith(rollbackSchema, request.body ?? {});
    return { applied: await controlPlane.rollback(request.params.name, { ...body, author: body.author ?? "api" }) };
  });
  app.get<{ Params: { name: string }; Querystring: Record<string, string> }>("/api/v1/services/:name/diff", async (request) => {
    const { from, to } = parseWith(diffSchema, request.query);
    return controlPlane.diff(request.params.name, from, to);
  });
  app.delete<{ Params: { name: string } }>("/api/v1/services/:name", async (request) => ({ service: await controlPlane.deleteService(request.params.name) }));
  app.get<{ Querystring: { service?: string; usage?: string } }>("/api/v1/replicas", async (request) => ({
    replicas: await controlPlane.replicas(request.query.service, request.query.usage === "1"),
  }));

  registerTokenRoutes(app, controlPlane.store);
  await registerDashboardRoutes(app, controlPlane.store);
  registerSecretRoutes(app, controlPlane);
  app.get<{ Querystring: Record<string, string> }>("/api/v1/audit", async (request) => {
    const { since } = parseWith(historySchema, { since: request.query.since ?? "876000h" });
    return { entries: await audit.list(since) };
  });
  app.get("/api/v1/audit/verify", async () => audit.verify());
  app.post("/api/v1/policies/test", async (request) => {
    const body = parseWith(applySchema, request.body);
    return { violations: await controlPlane.planner.policyTest(body.files) };
  });
  app.post("/api/v1/backup", async (request, reply) => {
    const { includeKey } = parseWith(z.strictObject({ includeKey: z.boolean().default(false) }), request.body ?? {});
    const bytes = await createBackup(controlPlane.store, options.home, VERSION, includeKey);
    request.audit = { object: "store", summary: `backup of ${bytes.length} bytes, ${includeKey ? "with" : "without"} the master key` };
    return reply.type("application/gzip").send(bytes);
  });

  app.post("/api/v1/shutdown", async (_request, reply) => {
    await reply.send({ status: "shutting down" });
    setImmediate(() => options.onShutdown?.());
  });

  registerLogRoutes(app, controlPlane);
  registerEventRoutes(app, controlPlane);
  registerNodeRoutes(app, controlPlane, options.cluster ?? { info: () => null });
  registerPoolRoutes(app, controlPlane);
  registerJobRoutes(app, controlPlane);
  registerVolumeRoutes(app, controlPlane);
  registerDatabaseRoutes(app, controlPlane, options.home);
  return app;
}

function authorOf(body: unknown): string {
  const author = (body as { author?: unknown } | undefined)?.author;
  if (author !== undefined && typeof author !== "string") throw new BadRequestError("must be a string", "author");
  return author ?? "api";
}
