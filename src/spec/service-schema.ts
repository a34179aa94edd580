/**
 * The `kind: Service` descriptor (DESIGN.md section 3). Every section is parsed, validated and
 * given its defaults here, including those whose behaviour arrives in later capabilities, so a
 * stored revision is always complete and comparable.
 */
import { z } from "zod";
import {
  countOrPercent,
  cpu,
  describeInput,
  dnsName,
  duration,
  environment,
  memory,
  nonNegativeInt,
  positiveInt,
} from "./fields.js";

const portRef = z.union([z.string().min(1), z.number().int().min(1).max(65535)], {
  error: (issue) => `expected a port name or number, got ${describeInput(issue.input)}`,
});

const gpu = z
  .union([z.number().int().min(0), z.string().regex(/^\d+$/)], {
    error: (issue) => `expected a whole number of GPUs, got ${describeInput(issue.input)}`,
  })
  .transform(Number);

const resourceSet = z.strictObject({ cpu: cpu.optional(), memory: memory.optional(), gpu: gpu.optional() });

const httpHeaders = z.union([
  z.record(z.string(), z.string()),
  z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).transform((list) => Object.fromEntries(list.map((h) => [h.name, h.value]))),
]);

const probe = z
  .strictObject({
    http_get: z
      .strictObject({
        path: z.string().startsWith("/", { error: "must start with /" }).default("/"),
        port: portRef,
        scheme: z.enum(["http", "https", "HTTP", "HTTPS"]).transform((s) => s.toLowerCase()).default("http"),
        headers: httpHeaders.default({}),
      })
      .optional(),
    tcp_socket: z.strictObject({ port: portRef }).optional(),
    exec: z.strictObject({ command: z.array(z.string()).min(1, { error: "must name a program" }) }).optional(),
    initial_delay: duration.default(0),
    period: duration.default(10_000),
    timeout: duration.default(1_000),
    failure_threshold: positiveInt.default(3),
    success_threshold: positiveInt.default(1),
  })
  .superRefine((value, ctx) => {
    const handlers = ["http_get", "tcp_socket", "exec"].filter((key) => value[key as keyof typeof value] !== undefined);
    if (handlers.length !== 1) {
      ctx.addIssue({ code: "custom", message: `needs exactly one of http_get, tcp_socket or exec${handlers.length ? ` (has ${handlers.join(", ")})` : ""}` });
    }
  });

const portNumber = z.number({ error: (issue) => `expected a port number, got ${describeInput(issue.input)}` }).int().min(1, { error: "must be 1-65535" }).max(65535, { error: "must be 1-65535" });

const port = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "must be lowercase letters, digits and '-'" }).max(15).optional(),
  /** Where drover's router listens. */
  port: portNumber,
  /**
   * Where the replica listens: a container's own port (nginx's 80), or a fixed port for a process
   * (which then binds it on its node: one replica per node). Default: the container listens on
   * `port`; a process on a port drover picks (PORT).
   */
  target_port: portNumber.optional(),
  /**
   * false: the router listens on loopback only, for the node's other services, not on the node's
   * addresses. No default written in: revisions stored before it existed keep their hash.
   */
  expose: z.boolean().optional(),
  protocol: z
    .string()
    .transform((p) => p.toLowerCase())
    .pipe(z.enum(["http", "tcp", "udp"], { error: "must be HTTP, TCP or UDP" }))
    .default("http"),
});

const mountableRef = z.union(
  [dnsName, z.strictObject({ name: dnsName, mount_path: z.string().startsWith("/", { error: "must be an absolute path" }).optional() })],
  { error: (issue) => `expected a name or {name, mount_path}, got ${describeInput(issue.input)}` },
).transform((ref) => (typeof ref === "string" ? { name: ref } : ref));

const scalingPolicy = z.strictObject({
  stabilization_window: duration.optional(),
  select_policy: z.enum(["Max", "Min", "Disabled"]).default("Max"),
  policies: z
    .array(z.strictObject({ type: z.enum(["Percent", "Pods"]), value: positiveInt, period: duration }))
    .default([]),
});

/** A condition on a node label, as Kubernetes node affinity writes it (`In`, `NotIn`, … are accepted too). */
const LABEL_OPERATORS = ["in", "not_in", "exists", "not_exists", "gt", "lt"] as const;
const OPERATOR_ALIASES: Record<string, (typeof LABEL_OPERATORS)[number]> = { In: "in", NotIn: "not_in", Exists: "exists", DoesNotExist: "not_exists", Gt: "gt", Lt: "lt" };

const labelExpressionFields = {
  label: z.string().min(1, { error: "must name a label" }),
  operator: z
    .string({ error: (issue) => `expected an operator, got ${describeInput(issue.input)}` })
    .transform((op) => OPERATOR_ALIASES[op] ?? op)
    .pipe(z.enum(LABEL_OPERATORS)),
  values: z.array(z.union([z.string(), z.number()]).transform(String)).default([]),
};

function checkLabelValues(value: { operator: string; values: string[] }, ctx: z.RefinementCtx): void {
  const { operator, values } = value;
  if ((operator === "in" || operator === "not_in") && values.length === 0) ctx.addIssue({ code: "custom", path: ["values"], message: `${operator} needs at least one value` });
  if ((operator === "exists" || operator === "not_exists") && values.length > 0) ctx.addIssue({ code: "custom", path: ["values"], message: `${operator} takes no values` });
  if ((operator === "gt" || operator === "lt") && (values.length !== 1 || !/^-?\d+$/.test(values[0]!))) ctx.addIssue({ code: "custom", path: ["values"], message: `${operator} takes exactly one whole number` });
}

const placement = z
  .strictObject({
    strategy: z.enum(["spread", "binpack"]).default("spread"),
    constraints: z.array(z.strictObject(labelExpressionFields).superRefine(checkLabelValues)).default([]),
    spread_by: z.array(z.string().min(1)).default([]),
    affinity: z
      .array(z.strictObject({ ...labelExpressionFields, weight: z.number().int().min(1, { error: "must be 1-100" }).max(100, { error: "must be 1-100" }).default(50) }).superRefine(checkLabelValues))
      .default([]),
  })
  .prefault({});

const signals = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGKILL"] as const;

/** The service's fields, for kinds that run the same workload (jobs) to pick from. */
export const serviceFields = z
  .strictObject({
    runtime: z.enum(["process", "docker"]).optional(),
    command: z.array(z.string(), { error: (issue) => `expected a list of arguments, got ${describeInput(issue.input)}` }).min(1, { error: "must name a program" }).optional(),
    working_dir: z.string().min(1).optional(),
    image: z
      .strictObject({
        repository: z.string().min(1),
        tag: z.union([z.string(), z.number()]).transform(String).default("latest"),
        pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
        pull_policy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
      })
      .transform(({ pullPolicy, pull_policy, ...image }) => ({ ...image, pull_policy: pull_policy ?? pullPolicy ?? "IfNotPresent" }))
      .optional(),
    replicas: nonNegativeInt.optional(),
    // Optional, unlike the sections with defaults: revisions stored before placement existed keep their hash.
    placement: placement.optional(),
    /**
     * Node-local folders that outlive replicas, rollouts and drover: a process finds each in
     * DROVER_VOLUME_<NAME>, a container at its mount_path. Optional (no default written in), as
     * `stateful`: revisions stored before they existed keep their hash.
     */
    volumes: z
      .array(
        z.strictObject({
          name: dnsName,
          mount_path: z.string().startsWith("/", { error: "must be an absolute path" }).optional(),
          /** What it is expected to hold: shown beside its use, not enforced on a folder. */
          size: memory.optional(),
        }),
      )
      .optional(),
    /** Stable replica names (db-0, db-1), a volume set per replica, ordered start and stop, replacement in place. */
    stateful: z.boolean().optional(),
    resources: z.strictObject({ requests: resourceSet.default({}), limits: resourceSet.default({}) }).prefault({}),
    networking: z
      .strictObject({ ports: z.array(port).default([]), load_balancing: z.enum(["round_robin", "least_connections"]).default("round_robin") })
      .prefault({}),
    health_checks: z
      .strictObject({ startup_probe: probe.optional(), liveness_probe: probe.optional(), readiness_probe: probe.optional() })
      .prefault({}),
    restart: z
      .strictObject({
        policy: z.enum(["always", "on_failure", "never"]).default("always"),
        backoff: z
          .strictObject({
            initial: duration.default(100),
            max: duration.default(30_000),
            multiplier: z.number().min(1, { error: "must be at least 1" }).default(2),
            reset_after: duration.default(60_000),
          })
          .prefault({}),
      })
      .prefault({}),
    healing: z
      .array(
        z.strictObject({
          trigger: z.enum(["liveness_failure", "crash_loop", "readiness_timeout", "oom_killed", "exit_nonzero"]),
          action: z.enum(["restart", "recreate", "rollback", "alert"]),
          max_attempts: positiveInt.default(3),
          backoff_multiplier: z.number().min(1).default(2),
          webhook: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).optional(),
        }),
      )
      .default([]),
    stop: z.strictObject({ signal: z.enum(signals).default("SIGTERM"), grace_period: duration.default(10_000) }).prefault({}),
    dependencies: z
      .array(z.strictObject({ name: dnsName, type: z.enum(["service"]).default("service"), required: z.boolean().default(true) }))
      .default([]),
    configuration: z
      .strictObject({
        environment: environment.default({}),
        config_maps: z.array(mountableRef).default([]),
        secrets: z.array(mountableRef).default([]),
        /**
         * Databases (kind: Database) in the same namespace whose URL the replica gets, e.g.
         * `{name: shopdb, env: DATABASE_URL}`; its credentials change → a rollout. Optional, no
         * default written in (stored revisions keep their hash).
         */
        databases: z
          .array(
            z.strictObject({
              name: dnsName,
              env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be a variable name" }).default("DATABASE_URL"),
              /** Which of its databases, as that database's owner (default: its first). */
              database: z.string().optional(),
            }),
          )
          .optional(),
      })
      .prefault({}),
    security: z
      .strictObject({
        run_as_user: nonNegativeInt.optional(),
        run_as_group: nonNegativeInt.optional(),
        run_as_non_root: z.boolean().optional(),
        capabilities: z.strictObject({ drop: z.array(z.string()).default([]), add: z.array(z.string()).default([]) }).prefault({}),
        security_context: z
          .strictObject({
            read_only_root_filesystem: z.boolean().default(false),
            privileged: z.boolean().default(false),
            allow_privilege_escalation: z.boolean().optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    deployment: z
      .strictObject({
        strategy: z.enum(["rolling", "blue_green", "canary"]).default("rolling"),
        rolling: z
          .strictObject({
            max_surge: countOrPercent.default({ percent: 25 }),
            max_unavailable: countOrPercent.default({ count: 0 }),
            min_ready: duration.default(0),
          })
          .prefault({}),
        blue_green: z.strictObject({ scale_down_delay: duration.default(30_000) }).prefault({}),
        canary: z
          .strictObject({
            steps: z.array(z.strictObject({ weight: z.number().min(0).max(100), pause: duration.default(0) })).default([]),
            analysis: z
              .strictObject({
                max_error_rate: z.number().min(0).max(1).default(0.01),
                max_latency_ratio: z.number().min(1).default(1.5),
                min_requests: nonNegativeInt.default(50),
              })
              .prefault({}),
          })
          .prefault({}),
        progress_deadline: duration.default(600_000),
        auto_rollback: z.boolean().default(true),
      })
      .prefault({}),
    scaling: z
      .strictObject({
        min_replicas: nonNegativeInt.optional(),
        max_replicas: positiveInt.optional(),
        target_cpu_utilization: z.number().min(1).max(100).optional(),
        target_memory_utilization: z.number().min(1).max(100).optional(),
        target_rps_per_replica: z.number().positive({ error: "must be above 0" }).optional(),
        target_latency_p95: duration.optional(),
        scale_up_policy: scalingPolicy.optional(),
        scale_down_policy: scalingPolicy.optional(),
        rules: z
          .array(
            z.strictObject({
              metric: z.enum(["cpu", "memory", "rps", "latency_p95"]),
              operator: z.enum([">", ">=", "<", "<="]),
              threshold: z.number(),
              duration: duration.default(0),
              action: z.enum(["scale_up", "scale_down"]),
              step: positiveInt.default(1),
            }),
          )
          .default([]),
        cooldown: duration.default(180_000),
        predictive: z
          .strictObject({
            enabled: z.boolean().default(true),
            season: duration.default(86_400_000),
            lead_time: duration.optional(),
            margin: duration.default(30_000),
          })
          .optional(),
      })
      .optional(),
  });

export const serviceSpecSchema = serviceFields.prefault({});

export const metadataSchema = z.strictObject({
  name: dnsName,
  namespace: dnsName.default("default"),
  version: z.union([z.string(), z.number()]).transform(String).optional(),
  labels: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
});

export const serviceDocumentSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal("Service"),
  metadata: metadataSchema,
  spec: serviceSpecSchema,
});

export type ServiceDocumentParsed = z.output<typeof serviceDocumentSchema>;
export type ServiceSpecParsed = z.output<typeof serviceSpecSchema>;
export type ProbeSpec = z.output<typeof probe>;
export type PortSpec = z.output<typeof port>;
export type PlacementSpec = z.output<typeof placement>;
