/**
 * The protocol between a server and the agents that dial it: JSON messages, one per line, over
 * TLS. Every message is validated on arrival; one that does not parse ends the connection (the
 * node's replicas are untouched: they keep running and routing on their last routes).
 *
 * An agent opens with `hello` (a join token the first time, its own credential after), the server
 * answers `welcome` or `refused`. Then the agent sends `heartbeat`s, each replica change
 * (`replica`) and its `metrics`; the server sends `call`s (start, stop, routes, …) that the agent
 * answers with a `reply` of the same id; `log` carries a followed replica log.
 */
import { z } from "zod";
import type { MetricsSnapshot, ReplicaEnergy } from "./metrics.js";

/** Bumped on any change an older peer could not read; peers with another version are refused. */
export const PROTOCOL_VERSION = 2;
/** A line longer than this is not a message drover sends: the connection is dropped. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const record = <T extends z.ZodType>(value: T) => z.record(z.string(), value);
const count = z.number().int().min(0);
const resources = z.object({ cpuMillis: z.number().min(0), memoryBytes: z.number().min(0), gpus: count });

export const nodeReportSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).max(63),
  address: z.string().min(1),
  labels: record(z.string()),
  capacity: resources.extend({ diskBytes: z.number().min(0) }),
  allocatable: resources,
  gpuModel: z.string().nullable(),
  gpuMemoryBytes: z.number().nullable().optional(),
  runtimes: z.array(z.string()),
  energy: z.object({ source: z.enum(["rapl", "model"]), wattsPerCore: z.number().min(0), idleWatts: z.number().min(0) }),
  freePorts: count,
  agentVersion: z.string(),
});

const exitInfo = z.object({ code: z.number().int().nullable(), signal: z.string().nullable(), unknown: z.boolean().optional(), oomKilled: z.boolean().optional(), reason: z.string().optional(), at: z.number() });
const probeOutcome = z.object({ ok: z.boolean(), message: z.string(), latencyMs: z.number() });
const probeReport = z.object({
  kind: z.enum(["startup", "liveness", "readiness"]),
  state: z.enum(["pending", "passing", "failing"]),
  consecutiveSuccesses: count,
  consecutiveFailures: count,
  last: probeOutcome.extend({ at: z.number() }).nullable(),
  target: z.string(),
});
const ports = record(z.number().int().min(0).max(65535));

export const replicaStatusSchema = z.object({
  id: z.string().min(1),
  node: z.string().optional(),
  service: z.string().min(1),
  revision: z.number().int(),
  state: z.enum(["running", "ready", "unready", "exited"]),
  pid: z.number().int().nullable(),
  ports,
  endpoint: z.object({ host: z.string(), ports }).optional(),
  startedAt: z.number(),
  exit: exitInfo.nullable(),
  where: z.string().optional(),
  message: z.string(),
  probes: z.array(probeReport),
  failing: z.object({ probe: z.enum(["startup", "liveness"]), message: z.string() }).nullable(),
});

const revisionTraffic = z.object({
  revision: z.number().int(),
  requests: count,
  statuses: record(count),
  proxyErrors: count,
  latencyBuckets: z.array(count),
  latencySumMs: z.number(),
  bytesIn: count,
  bytesOut: count,
  connections: count,
});
export const serviceTrafficSchema = z.object({ service: z.string(), revisions: z.array(revisionTraffic) });

const replicaGpu = z.object({ memoryBytes: z.number(), utilisation: z.number().nullable(), watts: z.number().nullable() });
const replicaEnergy = z.object({ cpuCores: z.number(), memoryBytes: z.number(), watts: z.number(), joulesTotal: z.number(), gpu: replicaGpu.nullable().optional() });
const gpuSample = z.object({ index: z.number().int(), uuid: z.string(), model: z.string(), memoryTotalBytes: z.number(), memoryUsedBytes: z.number(), utilisation: z.number().nullable(), watts: z.number().nullable() });
/** A metrics snapshot as it travels: the replicas' map as entries. */
const wireMetrics = z.object({
  intervalMs: z.number(),
  // The host sample is large and only shown, never acted on: its shape is the sampler's.
  host: z.looseObject({ at: z.number(), cores: z.number() }).nullable(),
  utilisation: z.number().nullable(),
  energy: z.object({ source: z.enum(["rapl", "model"]), watts: z.number(), joulesTotal: z.number(), model: z.object({ minWattsPerCpu: z.number(), maxWattsPerCpu: z.number(), wattsPerGb: z.number() }).nullable() }),
  replicas: z.array(z.tuple([z.string(), replicaEnergy])),
  // Optional: agents of this protocol version before GPUs were reported send none.
  gpus: z.array(gpuSample).nullable().optional(),
});

export const agentMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hello"),
    protocol: z.number().int(),
    node: nodeReportSchema,
    /** The first time: the join token; after that the credential the server gave. */
    auth: z.union([z.object({ joinToken: z.string().min(1) }), z.object({ credential: z.string().min(1) })]),
    /** What the agent runs now, so the server adopts it at once. */
    replicas: z.array(replicaStatusSchema),
  }),
  z.object({ type: z.literal("heartbeat"), seq: count, at: z.number(), freePorts: count }),
  z.object({ type: z.literal("replica"), status: replicaStatusSchema }),
  z.object({ type: z.literal("metrics"), snapshot: wireMetrics, traffic: z.array(serviceTrafficSchema) }),
  z.object({ type: z.literal("reply"), id: count, ok: z.boolean(), result: z.unknown().optional(), error: z.string().optional() }),
  z.object({ type: z.literal("log"), stream: count, text: z.string() }),
]);

const probeDefinition = z.object({
  action: z.discriminatedUnion("type", [
    z.object({ type: z.literal("http"), port: z.union([z.string(), z.number()]), path: z.string(), scheme: z.enum(["http", "https"]), headers: record(z.string()) }),
    z.object({ type: z.literal("tcp"), port: z.union([z.string(), z.number()]) }),
    z.object({ type: z.literal("exec"), command: z.array(z.string()).min(1) }),
  ]),
  initialDelayMs: z.number().min(0),
  periodMs: z.number().min(1),
  timeoutMs: z.number().min(1),
  failureThreshold: z.number().int().min(1),
  successThreshold: z.number().int().min(1),
});
const quantities = z.object({ cpuMillis: z.number().optional(), memoryBytes: z.number().optional() });

export const replicaLaunchSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, { error: "a replica id is letters, digits, '-', '_' and '.'" }).max(200),
  service: z.string().min(1),
  revision: z.number().int(),
  runtime: z.string(),
  command: z.array(z.string()),
  workingDir: z.string(),
  env: record(z.string()),
  portNames: z.array(z.string()),
  preferredPorts: ports,
  fixedPorts: ports.optional(),
  limits: quantities,
  user: z.object({ uid: z.number().int().optional(), gid: z.number().int().optional() }).optional(),
  health: z.object({ startup: probeDefinition.optional(), liveness: probeDefinition.optional(), readiness: probeDefinition.optional() }),
  container: z
    .object({
      image: z.string(),
      pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]),
      ports: z.array(z.object({ name: z.string(), port: z.number().int(), protocol: z.enum(["http", "tcp", "udp"]) })),
      command: z.array(z.string()).optional(),
      labels: record(z.string()),
      requests: quantities,
      gpus: z.number().optional(),
      capabilities: z.object({ add: z.array(z.string()), drop: z.array(z.string()) }),
      readOnlyRootFilesystem: z.boolean(),
      privileged: z.boolean(),
      noNewPrivileges: z.boolean(),
      stopSignal: z.string(),
    })
    .optional(),
  files: z.array(z.object({ name: z.string(), mountPath: z.string(), files: record(z.string()), secret: z.boolean() })),
  volumes: z.array(z.object({ name: z.string(), key: z.string(), mountPath: z.string().optional() })).optional(),
});

const backendTarget = z.object({ replica: z.string(), revision: z.number().int(), host: z.string(), port: z.number().int(), hostPort: z.number().int() });
export const routeSchema = z.object({
  service: z.string(),
  portName: z.string(),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(["http", "tcp"]),
  algorithm: z.enum(["round_robin", "least_connections"]),
  weights: record(z.number()).nullable(),
  loopbackOnly: z.boolean().optional(),
  remote: z.array(backendTarget).optional(),
});

const replicaId = z.string().min(1);
const signal = z.string().regex(/^SIG[A-Z0-9]+$/);
/** Each call's parameters, validated by the agent before it acts. */
export const CALL_PARAMS = {
  start: z.tuple([replicaLaunchSchema]),
  stop: z.tuple([replicaId, signal, z.number().min(0)]),
  remove: z.tuple([replicaId]),
  removeVolume: z.tuple([z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+\/[a-z0-9-]+$/, { error: "a volume key is namespace/service/name" })]),
  volumeUsage: z.tuple([z.array(z.string())]),
  prepare: z.tuple([z.string(), z.object({ image: z.string(), pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]) })]),
  usage: z.tuple([replicaId]),
  setRoutes: z.tuple([z.array(routeSchema)]),
  tailLogs: z.tuple([replicaId, z.number().int().min(0)]),
  followLogs: z.tuple([replicaId, count]),
  unfollowLogs: z.tuple([count]),
} as const;
export type CallMethod = keyof typeof CALL_PARAMS;
export const CALL_METHODS = Object.keys(CALL_PARAMS) as [CallMethod, ...CallMethod[]];

export const serverMessageSchema = z.discriminatedUnion("type", [
  // `servers`: every server's cluster address, so an agent given one learns the others for failover.
  z.object({ type: z.literal("welcome"), protocol: z.number().int(), node: z.string(), credential: z.string().optional(), servers: z.array(z.string()).optional() }),
  // `standby`: this server does not lead; the agent tries the next address at once (not a refusal of the agent itself).
  z.object({ type: z.literal("refused"), reason: z.string(), standby: z.boolean().optional() }),
  z.object({ type: z.literal("call"), id: count, method: z.enum(CALL_METHODS), params: z.array(z.unknown()) }),
  // The server is alive (version 2): an agent that hears nothing for a while tries the next server (a paused leader keeps its sockets open).
  z.object({ type: z.literal("heartbeat"), at: z.number() }),
]);

export type AgentMessage = z.output<typeof agentMessageSchema>;
export type ServerMessage = z.output<typeof serverMessageSchema>;

/** A message that failed validation: what was wrong, for the log line before the connection drops. */
export class WireError extends Error {
  override readonly name = "WireError";
}

/** Parses one line from the peer; throws WireError naming the first problem. */
export function decodeMessage<T>(schema: z.ZodType<T>, line: string): T {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new WireError(`not JSON: ${line.slice(0, 60)}${line.length > 60 ? "…" : ""}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new WireError(`invalid message${issue.path.length ? ` at ${issue.path.join(".")}` : ""}: ${issue.message}`);
  }
  return result.data;
}

export function toWireMetrics(snapshot: MetricsSnapshot): z.input<typeof wireMetrics> {
  return { ...snapshot, host: snapshot.host as unknown as z.input<typeof wireMetrics>["host"], replicas: [...snapshot.replicas] };
}

export function fromWireMetrics(wire: z.output<typeof wireMetrics>): MetricsSnapshot {
  return { ...wire, host: wire.host as unknown as MetricsSnapshot["host"], replicas: new Map<string, ReplicaEnergy>(wire.replicas) };
}
