/**
 * Nodes: list and describe (viewer), cordon, uncordon, drain and label (operator), remove and
 * join tokens (admin; see access.ts).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { BadRequestError, NotFoundError } from "../errors.js";
import type { ControlPlane } from "../server/control-plane.js";
import { parseWith } from "./parse.js";
import { parseLifetime } from "../security/tokens.js";
import { parseDuration } from "../spec/units.js";

const labelKey = z.string().regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, { error: "a label key is letters, digits, '-', '_' and '.', with an optional prefix/" }).max(100);
const labelsSchema = z.strictObject({ labels: z.record(labelKey, z.union([z.string().max(100), z.null()])) });
const joinSchema = z.strictObject({ ttl: z.string().default("1h") });

export interface ClusterAccess {
  /** Where agents dial in and the CA hash they pin; null when the server accepts no agents. */
  info(): { url: string; caHash: string } | null;
  /** Every server's agent address on a shared store (this one first), for the agents' failover. */
  servers?(): Promise<string[]>;
}

export function registerNodeRoutes(app: FastifyInstance, controlPlane: ControlPlane, cluster: ClusterAccess): void {
  app.get("/api/v1/nodes", async () => ({ nodes: await controlPlane.nodes() }));

  app.get<{ Params: { name: string } }>("/api/v1/nodes/:name", async (request) => {
    const node = (await controlPlane.nodes()).find((n) => n.name === request.params.name);
    if (!node) throw new NotFoundError(`no node named "${request.params.name}"`);
    const replicas = (await controlPlane.store.listReplicas()).filter((r) => r.node === node.name);
    return { node, replicas };
  });

  const actions = { cordon: { cordoned: true }, uncordon: { cordoned: false, draining: false }, drain: { cordoned: true, draining: true } };
  app.post<{ Params: { name: string; action: string } }>("/api/v1/nodes/:name/:action", async (request) => {
    const { action, name } = request.params;
    if (!Object.hasOwn(actions, action)) throw new NotFoundError(`no node action "${action}" (use cordon, uncordon or drain)`);
    const node = await controlPlane.agent.updateNode(name, actions[action as keyof typeof actions]);
    if (!node) throw new NotFoundError(`no node named "${name}"`);
    controlPlane.wake();
    request.audit = { object: `node ${node.name}`, summary: action };
    return { node: (await controlPlane.nodes()).find((n) => n.name === node.name) };
  });

  app.post<{ Params: { name: string } }>("/api/v1/nodes/:name/labels", async (request) => {
    const { labels } = parseWith(labelsSchema, request.body);
    const existing = controlPlane.agent.nodes().find((n) => n.name === request.params.name);
    if (!existing) throw new NotFoundError(`no node named "${request.params.name}"`);
    const reserved = Object.keys(labels).find((key) => key.startsWith("drover.dev/"));
    if (reserved) throw new BadRequestError(`labels.${reserved}: labels under drover.dev/ are set by the agent`);
    const merged = { ...existing.labels };
    for (const [key, value] of Object.entries(labels)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    await controlPlane.agent.updateNode(existing.name, { labels: merged });
    controlPlane.wake();
    request.audit = { object: `node ${existing.name}`, summary: Object.entries(labels).map(([k, v]) => (v === null ? `-${k}` : `${k}=${v}`)).join(" ") };
    return { node: (await controlPlane.nodes()).find((n) => n.name === existing.name) };
  });

  app.delete<{ Params: { name: string } }>("/api/v1/nodes/:name", async (request) => {
    if (request.params.name === controlPlane.agent.node) throw new BadRequestError(`node ${request.params.name} is this server's own node: it cannot be removed`);
    if (!(await controlPlane.agent.removeNode(request.params.name))) throw new NotFoundError(`no node named "${request.params.name}"`);
    request.audit = { object: `node ${request.params.name}`, summary: "removed; its credential is revoked" };
    return { name: request.params.name, removed: true };
  });

  app.post("/api/v1/nodes/join-tokens", async (request) => {
    const { ttl } = parseWith(joinSchema, request.body ?? {});
    let ttlMs: number;
    try {
      // Seconds too (30s): a token for one scripted join can live just long enough.
      ttlMs = /^\d+\s*s$/.test(ttl.trim()) ? parseDuration(ttl.trim()) : parseLifetime(ttl);
    } catch (error) {
      throw new BadRequestError(`ttl: ${(error as Error).message.replace("30d, 12h or 90m", "30s, 90m, 12h or 30d")}`);
    }
    const info = cluster.info();
    if (!info) throw new BadRequestError("this server accepts no agents: start it with --cluster-listen ADDR:PORT");
    const { createJoinToken } = await import("../cluster/join-tokens.js");
    const { token, expiresAt } = await createJoinToken(controlPlane.store, ttlMs, request.actor?.name ?? "unknown");
    request.audit = { object: "join token", summary: `expires ${new Date(expiresAt).toISOString()}` };
    const servers = [...new Set([info.url, ...((await cluster.servers?.().catch(() => [])) ?? [])])].join(",");
    return { token, expiresAt, server: servers, caHash: info.caHash, command: `drover agent --server ${servers} --token ${token} --ca-hash ${info.caHash}` };
  });
}
