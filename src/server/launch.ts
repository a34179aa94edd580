/** Turns a stored revision into what the agent needs to start one replica of it. */
import type { ReplicaLaunch } from "../agent/node-agent.js";
import type { HealthDefinition, ProbeAction, ProbeDefinition } from "../agent/probes/probe.js";
import type { ProbeSpec, ServiceDescriptor, ServiceSpec } from "../spec/index.js";
import type { ConfigObjectRecord, ReplicaRecord } from "../store/records.js";

/** Variables passed through from drover's own environment: what programs need to run at all. */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TERM"];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function buildLaunch(
  replica: Pick<ReplicaRecord, "id" | "service" | "revision" | "ports">,
  descriptor: ServiceDescriptor,
  configObjects: ConfigObjectRecord[],
): ReplicaLaunch {
  const { spec, metadata } = descriptor;
  const env: Record<string, string> = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  // Precedence, lowest first: config maps, secrets, then the descriptor's own environment.
  for (const object of configObjects) {
    for (const [key, value] of Object.entries(object.data)) if (ENV_NAME.test(key)) env[key] = value;
  }
  Object.assign(env, {
    DROVER_SERVICE: metadata.name,
    DROVER_NAMESPACE: metadata.namespace,
    DROVER_REPLICA: replica.id,
    DROVER_REVISION: String(replica.revision),
  });
  Object.assign(env, spec.configuration.environment);
  return {
    id: replica.id,
    service: replica.service,
    revision: replica.revision,
    runtime: spec.runtime,
    command: spec.command ?? [],
    workingDir: spec.working_dir,
    env,
    portNames: spec.networking.ports.map((p) => p.name),
    preferredPorts: replica.ports,
    limits: { cpuMillis: spec.resources.limits.cpu, memoryBytes: spec.resources.limits.memory },
    user: spec.security.run_as_user !== undefined || spec.security.run_as_group !== undefined
      ? { uid: spec.security.run_as_user, gid: spec.security.run_as_group }
      : undefined,
    health: healthDefinition(spec),
  };
}

function healthDefinition(spec: ServiceSpec): HealthDefinition {
  const { startup_probe, liveness_probe, readiness_probe } = spec.health_checks;
  const health: HealthDefinition = {};
  if (startup_probe) health.startup = probeDefinition(startup_probe, spec);
  if (liveness_probe) health.liveness = probeDefinition(liveness_probe, spec);
  if (readiness_probe) health.readiness = probeDefinition(readiness_probe, spec);
  return health;
}

function probeDefinition(probe: ProbeSpec, spec: ServiceSpec): ProbeDefinition {
  // A declared service port number means the replica's own port for it: the router holds the service port.
  const port = (ref: string | number) => (typeof ref === "number" ? (spec.networking.ports.find((p) => p.port === ref)?.name ?? ref) : ref);
  let action: ProbeAction;
  if (probe.http_get) {
    const { path, scheme, headers } = probe.http_get;
    action = { type: "http", port: port(probe.http_get.port), path, scheme: scheme as "http" | "https", headers };
  } else if (probe.tcp_socket) {
    action = { type: "tcp", port: port(probe.tcp_socket.port) };
  } else {
    action = { type: "exec", command: probe.exec!.command };
  }
  return {
    action,
    initialDelayMs: probe.initial_delay,
    periodMs: probe.period,
    timeoutMs: probe.timeout,
    failureThreshold: probe.failure_threshold,
    successThreshold: probe.success_threshold,
  };
}

/** The config maps and secrets a descriptor names, in the order it names them. */
export function referencedObjects(descriptor: ServiceDescriptor, all: ConfigObjectRecord[]): ConfigObjectRecord[] {
  const ns = descriptor.metadata.namespace;
  const pick = (kind: ConfigObjectRecord["kind"], refs: Array<{ name: string }>) =>
    refs.map((ref) => all.find((o) => o.kind === kind && o.name === `${ns}/${ref.name}`)).filter((o): o is ConfigObjectRecord => o !== undefined);
  return [...pick("ConfigMap", descriptor.spec.configuration.config_maps), ...pick("Secret", descriptor.spec.configuration.secrets)];
}
