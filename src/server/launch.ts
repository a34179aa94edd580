/** Turns a stored revision into what the agent needs to start one replica of it. */
import { credentialsSecretName, urlKey, type ProbeSpec, type ServiceDescriptor, type ServiceSpec } from "../spec/index.js";
import { replicaVolumes } from "./stateful.js";
import type { ConfigObjectRecord, ContainerSpec, HealthDefinition, ImageRef, ProbeAction, ProbeDefinition, ReplicaLaunch, ReplicaRecord } from "../contract/index.js";

/** Variables passed through from drover's own environment: what programs need to run at all. */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TERM"];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function buildLaunch(
  replica: Pick<ReplicaRecord, "id" | "service" | "revision" | "ports">,
  descriptor: ServiceDescriptor,
  configObjects: ConfigObjectRecord[],
): ReplicaLaunch {
  const { spec, metadata } = descriptor;
  const container = spec.runtime === "docker";
  const env: Record<string, string> = {};
  // A process needs a PATH and a HOME from somewhere; an image brings its own.
  if (!container) for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  const mounted = mountedObjects(descriptor, configObjects);
  const ns = descriptor.metadata.namespace;
  const named = new Set(spec.configuration.secrets.map((r) => `${ns}/${r.name}`));
  const links = spec.configuration.databases ?? [];
  // A linked database's credentials give its URL only, not every password it holds.
  const linkedOnly = (object: ConfigObjectRecord) => object.kind === "Secret" && !named.has(object.name) && links.some((l) => object.name === `${ns}/${credentialsSecretName(l.name)}`);
  // Precedence, lowest first: config maps, secrets, linked databases' URLs, then the descriptor's own environment.
  for (const object of configObjects) {
    if (mounted.some((m) => m.object === object) || linkedOnly(object)) continue;
    for (const [key, value] of Object.entries(object.data)) if (ENV_NAME.test(key)) env[key] = value;
  }
  for (const link of links) {
    const url = configObjects.find((o) => o.kind === "Secret" && o.name === `${ns}/${credentialsSecretName(link.name)}`)?.data[urlKey(link.database)];
    if (url !== undefined) env[link.env] = url;
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
    ...(!container && spec.networking.ports.some((p) => p.target_port !== undefined)
      ? { fixedPorts: Object.fromEntries(spec.networking.ports.flatMap((p) => (p.target_port !== undefined ? [[p.name, p.target_port]] : []))) }
      : {}),
    limits: { cpuMillis: spec.resources.limits.cpu, memoryBytes: spec.resources.limits.memory },
    user: spec.security.run_as_user !== undefined || spec.security.run_as_group !== undefined
      ? { uid: spec.security.run_as_user, gid: spec.security.run_as_group }
      : undefined,
    health: healthDefinition(spec),
    ...(container ? { container: containerSpec(descriptor, replica.revision) } : {}),
    files: mounted.map(({ object, mountPath }) => ({ name: object.name.slice(object.name.indexOf("/") + 1), mountPath, files: object.data, secret: object.kind === "Secret" })),
    ...(spec.volumes?.length ? { volumes: replicaVolumes(replica.service, spec, replica.id).map(({ name, key, mountPath }) => ({ name, key, ...(mountPath ? { mountPath } : {}) })) } : {}),
  };
}

function containerSpec(descriptor: ServiceDescriptor, revision: number): ContainerSpec {
  const { spec, metadata } = descriptor;
  const { security, resources } = spec;
  return {
    ...imageOf(descriptor)!,
    ports: spec.networking.ports.map((p) => ({ name: p.name, port: p.target_port ?? p.port, protocol: p.protocol })),
    command: spec.command,
    labels: { "dev.drover.service": `${metadata.namespace}/${metadata.name}`, "dev.drover.revision": String(revision) },
    requests: { cpuMillis: resources.requests.cpu, memoryBytes: resources.requests.memory },
    gpus: resources.limits.gpu ?? resources.requests.gpu,
    capabilities: security.capabilities,
    readOnlyRootFilesystem: security.security_context.read_only_root_filesystem,
    privileged: security.security_context.privileged,
    // Unlike Kubernetes, escalation (setuid programs, file capabilities) is off unless allowed.
    noNewPrivileges: !security.security_context.privileged && security.security_context.allow_privilege_escalation !== true,
    stopSignal: spec.stop.signal,
  };
}

/** The image a revision runs, for runtimes that run images. */
export function imageOf(descriptor: ServiceDescriptor): ImageRef | undefined {
  const { runtime, image } = descriptor.spec;
  return runtime === "docker" && image ? { image: `${image.repository}:${image.tag}`, pullPolicy: image.pull_policy } : undefined;
}

interface MountedObject {
  object: ConfigObjectRecord;
  mountPath: string;
}

/** Config maps and secrets referenced with a mount_path: files in the container, not variables. */
function mountedObjects(descriptor: ServiceDescriptor, all: ConfigObjectRecord[]): MountedObject[] {
  const ns = descriptor.metadata.namespace;
  const { config_maps, secrets } = descriptor.spec.configuration;
  const refs = [...config_maps.map((r) => ({ ...r, kind: "ConfigMap" })), ...secrets.map((r) => ({ ...r, kind: "Secret" }))];
  return refs.flatMap((ref) => {
    const object = all.find((o) => o.kind === ref.kind && o.name === `${ns}/${ref.name}`);
    return object && ref.mount_path ? [{ object, mountPath: ref.mount_path }] : [];
  });
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
  const databases = (descriptor.spec.configuration.databases ?? []).map((d) => ({ name: credentialsSecretName(d.name) }));
  return [...pick("ConfigMap", descriptor.spec.configuration.config_maps), ...pick("Secret", descriptor.spec.configuration.secrets), ...pick("Secret", databases)];
}
