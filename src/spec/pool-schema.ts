/**
 * `kind: NodePool`: nodes that drover brings and takes away through a provider (local network
 * namespaces, SSH hosts, or any program speaking the exec contract), sized by a machine type of
 * the provider's catalog or by numbers, between `min` and `max`. Pools are cluster-wide: the
 * name alone identifies one.
 */
import { z } from "zod";
import { cpu, describeInput, duration, labels, memory, nonNegativeInt, positiveInt } from "./fields.js";
import { metadataSchema } from "./service-schema.js";

export const PROVIDERS = ["local", "ssh", "exec"] as const;

const money = z.number({ error: (issue) => `expected a number (per hour), got ${describeInput(issue.input)}` }).min(0, { error: "must be 0 or more" });

/** A machine sized by number, for providers that take any size (and for catalog entries). */
const machineSize = z.strictObject({
  cpu,
  memory,
  gpus: nonNegativeInt.default(0),
  gpu_model: z.string().min(1).optional(),
  gpu_memory: memory.optional(),
});

export const machineTypeSchema = machineSize.extend({
  name: z.string().regex(/^[a-z0-9][-a-z0-9.]*$/, { error: "must be lowercase letters, digits, '-' and '.'" }),
  hourly_cost: money.default(0),
  /** Power drawn under typical load, for the energy optimisation and the energy model. */
  watts: z.number().min(0).default(0),
});

const sshHost = z.union([
  z.string().min(1).transform((address) => ({ address, port: 22 })),
  z.strictObject({ address: z.string().min(1), port: z.number().int().min(1).max(65535).default(22) }),
]);

const localSettings = z.strictObject({
  /** The bridge the namespaces hang on: made (with `subnet`'s .1) unless it exists. */
  bridge: z.string().regex(/^[a-zA-Z0-9_.-]{1,15}$/, { error: "must be an interface name of at most 15 characters" }).default("drover0"),
  /** The /24 the nodes take addresses in, as its first three octets or in CIDR form. */
  subnet: z.string().regex(/^(\d{1,3}\.){2}\d{1,3}(\.0\/24)?$/, { error: "expected the first three octets of a /24, e.g. 10.213.0 or 10.213.0.0/24" }).transform((s) => s.replace(/\.0\/24$/, "")).default("10.213.0"),
});

const sshSettings = z.strictObject({
  hosts: z.array(sshHost).min(1, { error: "an ssh pool needs at least one host" }),
  user: z.string().min(1).default("root"),
  /** The private key drover logs in with (OpenSSH format). */
  private_key_file: z.string().min(1),
  /** Host keys are checked against this file (OpenSSH known_hosts format); an unknown or different key is refused. */
  known_hosts_file: z.string().min(1),
  /** Where drover installs itself on each host (one folder per instance under it). */
  install_dir: z.string().min(1).default("/opt/drover"),
  /** The Node.js 20+ binary on the hosts. */
  node: z.string().min(1).default("node"),
  connect_timeout: duration.default(10_000),
  /** One remote command's limit (each runs through the user's login shell, startup files first). */
  command_timeout: duration.default(60_000),
  /** Keep the agent's logs on the host after terminate. */
  keep_logs: z.boolean().default(false),
});

const execSettings = z.strictObject({
  /** The program and its first arguments; drover adds the verb and sends the request as JSON on stdin. */
  command: z.array(z.string().min(1)).min(1, { error: "must name a program" }),
  /** One verb's time limit. */
  timeout: duration.default(60_000),
  environment: z.record(z.string(), z.string()).default({}),
});

export const nodePoolSpecSchema = z
  .strictObject({
    provider: z.enum(PROVIDERS),
    min: nonNegativeInt.default(0),
    max: positiveInt,
    labels: labels.default({}),
    /** A machine type of the provider's catalog, or a size in numbers. */
    machine: z.union([z.string().min(1), machineSize], { error: (issue) => `expected a machine type name or {cpu, memory, gpus}, got ${describeInput(issue.input)}` }),
    /** Machine types added to (or replacing, by name) the provider's own catalog. */
    catalog: z.array(machineTypeSchema).default([]),
    /** How the cluster autoscaler picks between pools that fit pending replicas. */
    optimize: z.enum(["cost", "energy"]).default("cost"),
    /** Add nodes for pending replicas and remove idle ones (false: `drover pool scale` alone sizes it). */
    autoscale: z.boolean().default(true),
    /** Pack replicas onto fewer nodes at low load so nodes can be turned off. */
    consolidation: z.boolean().default(true),
    scale_down_delay: duration.default(600_000),
    boot_timeout: duration.default(300_000),
    local: localSettings.optional(),
    ssh: sshSettings.optional(),
    exec: execSettings.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.min > spec.max) ctx.addIssue({ code: "custom", path: ["min"], message: `min (${spec.min}) is more than max (${spec.max})` });
    for (const provider of PROVIDERS) {
      if (provider !== spec.provider && spec[provider] !== undefined) ctx.addIssue({ code: "custom", path: [provider], message: `settings for the ${provider} provider in a pool whose provider is ${spec.provider}` });
    }
    if (spec.provider === "ssh" && !spec.ssh) ctx.addIssue({ code: "custom", path: ["ssh"], message: "an ssh pool needs ssh: {hosts, private_key_file, known_hosts_file}" });
    if (spec.provider === "exec" && !spec.exec) ctx.addIssue({ code: "custom", path: ["exec"], message: "an exec pool needs exec: {command}" });
    if (spec.provider === "ssh" && spec.ssh && spec.max > spec.ssh.hosts.length) ctx.addIssue({ code: "custom", path: ["max"], message: `max (${spec.max}) is more than the ssh hosts listed (${spec.ssh.hosts.length})` });
  });

export const nodePoolDocumentSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal("NodePool"),
  metadata: metadataSchema,
  spec: nodePoolSpecSchema,
});

export type NodePoolDocument = z.output<typeof nodePoolDocumentSchema>;
export type NodePoolSpec = NodePoolDocument["spec"];
export type MachineType = z.output<typeof machineTypeSchema>;
export type MachineSize = z.output<typeof machineSize>;

/** A pool's node names: the pool's name, '-', six hex digits; the limit leaves room for those. */
export const POOL_NAME_MAX = 50;
