/**
 * A process with a target_port binds it on its node, so two of its replicas never share a node:
 * a rollout has to stop the old replica before it starts the new one, and a UDP port (reached on
 * each replica's own port) has nothing to translate.
 */
function checkFixedPorts(located: Located<ServiceDescriptor>): SpecIssue[] {
  const { doc, value } = located;
  const { spec } = value;
  const at = spec.networking.ports.findIndex((p) => p.target_port !== undefined);
  if (at < 0) return [];
  const path = ["spec", "networking", "ports", at, "target_port"];
  const udp = spec.networking.ports.findIndex((p) => p.target_port !== undefined && p.protocol === "udp");
  if (udp >= 0) return [issueAt(doc, ["spec", "networking", "ports", udp, "target_port"], "a udp port is not proxied (clients reach each replica on its own port), so it has no target_port")];
  if (spec.runtime !== "process") return [];
  return replacedInPlace(located, path, "a process binds its target_port on its node");
}

/**
 * A replica that cannot run beside its successor (it holds a fixed port, or its volume): updates
 * stop the old one first, so only a rolling update without surge will do.
 */
function replacedInPlace({ doc, value }: Located<ServiceDescriptor>, path: Array<string | number>, because: string): SpecIssue[] {
  const { strategy, rolling } = value.spec.deployment;
  if (strategy !== "rolling") return [issueAt(doc, path, `${because}, so old and new replicas cannot run side by side as ${strategy} needs: use strategy rolling with max_surge: 0`)];
  const { max_surge: surge, max_unavailable: unavailable } = rolling;
  // Both 0 would deadlock, so the rolling update surges by one after all: at least one must be allowed down.
  const inPlace = ("count" in surge ? surge.count === 0 : surge.percent === 0) && "count" in unavailable && unavailable.count >= 1;
  if (!inPlace) return [issueAt(doc, path, `${because}, so a new replica cannot start beside the old one: set deployment.rolling.max_surge: 0 and max_unavailable: 1 (or more, as a count)`)];
  return [];
}

/** Volume names are unique; a container needs to be told where to see each; a stateful replica is replaced on its own volumes. */
function checkVolumes(located: Located<ServiceDescriptor>): SpecIssue[] {
  const { doc, value } = located;
  const issues: SpecIssue[] = [];
  const volumes = value.spec.volumes ?? [];
  const seen = new Set<string>();
  volumes.forEach((volume, index) => {
    if (seen.has(volume.name)) issues.push(issueAt(doc, ["spec", "volumes", index, "name"], `duplicate volume name "${volume.name}"`));
    seen.add(volume.name);
    if (value.spec.runtime === "docker" && volume.mount_path === undefined) issues.push(issueAt(doc, ["spec", "volumes", index], "a container needs mount_path: where it sees the volume"));
  });
  if (value.spec.stateful) issues.push(...replacedInPlace(located, ["spec", "stateful"], "a stateful replica is replaced on its own volumes and name"));
  return issues;
}

/** The ports a service holds on a node: its service ports, and the fixed ports its processes bind. */
export function hostPortsOf(spec: ServiceDescriptor["spec"]): number[] {
  const fixed = spec.runtime === "process" ? spec.networking.ports.flatMap((p) => (p.target_port !== undefined ? [p.target_port] : [])) : [];
  return [...spec.networking.ports.map((p) => p.port), ...fixed];
}

/**
 * Checks that look across fields and documents: duplicates, references (ports, dependencies,
 * config maps, secrets), port clashes and dependency cycles. They run on documents that passed
 * the schema, against what the files define plus what already exists.
 */
import { didYouMean } from "./did-you-mean.js";
import type { SpecIssue } from "./errors.js";
import type { ConfigMapDescriptor, DatabaseDescriptor, JobDescriptor, SecretDescriptor, ServiceDescriptor } from "./types.js";
import type { PolicyDocument } from "./config-schema.js";
import { POOL_NAME_MAX, type NodePoolDocument } from "./pool-schema.js";
import { qualifiedName } from "./types.js";
import { issueAt, type SourceDocument } from "./yaml-source.js";

export interface Located<T> {
  file: string;
  line: number;
  doc: SourceDocument;
  value: T;
}

export interface LocatedDescriptors {
  services: Located<ServiceDescriptor>[];
  configMaps: Located<ConfigMapDescriptor>[];
  secrets: Located<SecretDescriptor>[];
  policies: Located<PolicyDocument>[];
  pools: Located<NodePoolDocument>[];
  jobs: Located<JobDescriptor>[];
  databases: Located<DatabaseDescriptor>[];
}

/** What exists already, keyed by `namespace/name`. */
export interface KnownObjects {
  /** `database`: the Database whose service it is. */
  services: Map<string, { dependencies: string[]; ports: number[]; database?: string }>;
  configMaps: Set<string>;
  secrets: Set<string>;
}

/** How a reference to something that does not exist is taken (see LoadOptions.unresolved). */
export type Unresolved = "error" | "validate" | "wait";

export function checkDescriptors(
  set: LocatedDescriptors,
  known: KnownObjects = { services: new Map(), configMaps: new Set(), secrets: new Set() },
  unresolved: Unresolved,
): SpecIssue[] {
  const issues: SpecIssue[] = [];
  // A database's own service is checked for clashes apart, with words about the database.
  const databaseDocs = new Set(set.databases.map((d) => d.doc));
  const declared = set.services.filter((s) => !databaseDocs.has(s.doc));
  for (const group of [declared, set.configMaps, set.secrets, set.policies] as Located<{ kind: string; metadata: { namespace: string; name: string } }>[][]) {
    issues.push(...duplicates(group));
  }
  issues.push(...checkDatabases(set.databases, declared, known));
  issues.push(...checkPools(set.pools));
  issues.push(...checkJobs(set.jobs));
  const names = {
    services: new Set([...known.services.keys(), ...set.services.map((s) => qualifiedName(s.value.metadata))]),
    configMaps: new Set([...known.configMaps, ...set.configMaps.map((c) => qualifiedName(c.value.metadata))]),
    // A database's credentials secret is the server's to make, at the same apply.
    secrets: new Set([...known.secrets, ...set.secrets.map((s) => qualifiedName(s.value.metadata)), ...set.databases.map((d) => `${d.value.document.metadata.namespace}/${d.value.credentials.secret}`)]),
    // What a service may link to: the Databases in these files and those already there.
    databases: new Set([...set.databases.map((d) => d.value.name), ...[...known.services].filter(([, s]) => s.database !== undefined).map(([name]) => name)]),
  };
  for (const service of set.services) {
    issues.push(...checkRuntime(service), ...checkPorts(service), ...checkVolumes(service), ...checkResources(service));
    issues.push(...checkReferences(service, names, unresolved));
  }
  issues.push(...checkPortClashes(set.services, known), ...checkCycles(set.services, known));
  return issues;
}

/** A database's service takes the database's name: no other service may have it, in the files or already. */
function checkDatabases(databases: Located<DatabaseDescriptor>[], declared: Located<ServiceDescriptor>[], known: KnownObjects): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Map<string, Located<DatabaseDescriptor>>();
  for (const database of databases) {
    const { doc, value } = database;
    const first = seen.get(value.name);
    if (first) issues.push(issueAt(doc, ["metadata", "name"], `duplicate Database "${value.name}" (first defined at ${first.file}:${first.line})`));
    seen.set(value.name, database);
    const service = declared.find((s) => qualifiedName(s.value.metadata) === value.name);
    const existing = known.services.get(value.name);
    if (service) issues.push(issueAt(doc, ["metadata", "name"], `a Database runs as a service of its own name, and the Service "${value.name}" at ${service.file}:${service.line} has it: rename one`));
    else if (existing && existing.database !== value.document.metadata.name) issues.push(issueAt(doc, ["metadata", "name"], `a Database runs as a service of its own name, and the service "${value.name}" exists already: rename the database (or delete that service)`));
  }
  return issues;
}

/** A Job and a CronJob share one name space (runs, logs and metrics are by name); the workload needs its command or image. */
function checkJobs(jobs: Located<JobDescriptor>[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  for (const { doc, value } of jobs) {
    const name = qualifiedName(value.metadata);
    if (seen.has(name)) issues.push(issueAt(doc, ["metadata", "name"], `duplicate job "${name}" (a Job and a CronJob share names)`));
    seen.add(name);
    const base = value.kind === "CronJob" ? ["spec", "job"] : ["spec"];
    const { workload } = value.spec;
    if (workload.runtime === "process" && !workload.command) issues.push(issueAt(doc, [...base, "command"], "required for runtime process (the program and its arguments)"));
    if (workload.runtime === "docker" && !workload.image) issues.push(issueAt(doc, [...base, "image"], "required for runtime docker"));
  }
  return issues;
}

/** Pools are cluster-wide: one name, whatever the namespace; node names add seven characters to it. */
function checkPools(pools: Located<NodePoolDocument>[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Map<string, Located<NodePoolDocument>>();
  for (const pool of pools) {
    const name = pool.value.metadata.name;
    if (name.length > POOL_NAME_MAX) issues.push(issueAt(pool.doc, ["metadata", "name"], `a pool's name must be at most ${POOL_NAME_MAX} characters (its nodes are named after it)`));
    const first = seen.get(name);
    if (first) issues.push(issueAt(pool.doc, ["metadata", "name"], `duplicate NodePool "${name}" (first defined at ${first.file}:${first.line})`));
    else seen.set(name, pool);
  }
  return issues;
}

function duplicates(group: Located<{ kind: string; metadata: { namespace: string; name: string } }>[]): SpecIssue[] {
  const seen = new Map<string, Located<unknown>>();
  const issues: SpecIssue[] = [];
  for (const item of group) {
    const key = qualifiedName(item.value.metadata);
    const first = seen.get(key);
    if (first) {
      issues.push(issueAt(item.doc, ["metadata", "name"], `duplicate ${item.value.kind} "${key}" (first defined at ${first.file}:${first.line})`));
    } else seen.set(key, item);
  }
  return issues;
}

function checkRuntime({ doc, value }: Located<ServiceDescriptor>): SpecIssue[] {
  const { spec } = value;
  if (spec.runtime === "process" && !spec.command) return [issueAt(doc, ["spec", "command"], "required for runtime process (the program and its arguments)")];
  if (spec.runtime === "docker" && !spec.image) return [issueAt(doc, ["spec", "image"], "required for runtime docker")];
  return [];
}

function checkPorts(located: Located<ServiceDescriptor>): SpecIssue[] {
  const { doc, value } = located;
  const issues: SpecIssue[] = [];
  const ports = value.spec.networking.ports;
  const byName = new Map<string, number>();
  const byNumber = new Map<number, number>();
  ports.forEach((port, index) => {
    if (byName.has(port.name)) issues.push(issueAt(doc, ["spec", "networking", "ports", index, "name"], `duplicate port name "${port.name}"`));
    if (byNumber.has(port.port)) issues.push(issueAt(doc, ["spec", "networking", "ports", index, "port"], `duplicate port ${port.port}`));
    byName.set(port.name, index);
    byNumber.set(port.port, index);
  });
  issues.push(...checkFixedPorts(located));
  const probes = value.spec.health_checks;
  for (const probeName of ["startup_probe", "liveness_probe", "readiness_probe"] as const) {
    const probe = probes[probeName];
    if (!probe) continue;
    for (const handler of ["http_get", "tcp_socket"] as const) {
      const ref = probe[handler]?.port;
      if (typeof ref !== "string") continue;
      if (!byName.has(ref)) {
        const list = ports.length ? `ports: ${[...byName.keys()].join(", ")}` : "the service declares no ports";
        issues.push(issueAt(doc, ["spec", "health_checks", probeName, handler, "port"], `no port named "${ref}" (${list})${didYouMean(ref, byName.keys())}`));
      }
    }
  }
  return issues;
}

function checkResources({ doc, value }: Located<ServiceDescriptor>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const { requests, limits } = value.spec.resources;
  for (const resource of ["cpu", "memory", "gpu"] as const) {
    const request = requests[resource];
    const limit = limits[resource];
    if (request !== undefined && limit !== undefined && request > limit) {
      issues.push(issueAt(doc, ["spec", "resources", "requests", resource], `request is larger than the limit`));
    }
  }
  const scaling = value.spec.scaling;
  if (scaling?.min_replicas !== undefined && scaling.max_replicas !== undefined && scaling.min_replicas > scaling.max_replicas) {
    issues.push(issueAt(doc, ["spec", "scaling", "min_replicas"], `is larger than max_replicas (${scaling.max_replicas})`));
  }
  if (scaling && autoscales(scaling) && scaling.max_replicas === undefined) {
    issues.push(issueAt(doc, ["spec", "scaling"], "max_replicas is required when the service autoscales (a target, a rule or predictive)"));
  }
  const memoryBase = value.spec.resources.requests.memory ?? value.spec.resources.limits.memory;
  if (scaling?.target_memory_utilization !== undefined && memoryBase === undefined) {
    issues.push(issueAt(doc, ["spec", "scaling", "target_memory_utilization"], "needs resources.requests.memory (or limits.memory): utilization is a share of it"));
  }
  return issues;
}

function checkReferences(
  { doc, value }: Located<ServiceDescriptor>,
  names: { services: Set<string>; configMaps: Set<string>; secrets: Set<string>; databases: Set<string> },
  unresolved: Unresolved,
): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const namespace = value.metadata.namespace;
  const inNamespace = (set: Set<string>) => [...set].filter((n) => n.startsWith(`${namespace}/`)).map((n) => n.slice(namespace.length + 1));
  const missing = (what: string, name: string, set: Set<string>, path: PropertyKey[], optional = false) => {
    const suggestion = didYouMean(name, inNamespace(set));
    // An optional dependency never blocks: a missing one is worth a word, not a refusal. A name
    // close to one that exists is a typo, not something still to come: always refused.
    const typo = suggestion !== "";
    const severity = (unresolved === "error" || typo) && !optional ? "error" : "warning";
    const later = unresolved === "validate" ? "; it must exist when this is applied" : unresolved === "wait" ? `; ${value.metadata.name} waits until it exists` : "";
    const hint = optional ? `; optional, so ${value.metadata.name} starts without it` : severity === "warning" ? later : "";
    issues.push(issueAt(doc, path, `no ${what} "${name}" in namespace "${namespace}"${suggestion}${hint}`, { severity }));
  };
  value.spec.dependencies.forEach((dependency, index) => {
    const path = ["spec", "dependencies", index, "name"];
    if (dependency.name === value.metadata.name) issues.push(issueAt(doc, path, "a service cannot depend on itself"));
    else if (!names.services.has(`${namespace}/${dependency.name}`)) missing("service", dependency.name, names.services, path, !dependency.required);
  });
  value.spec.configuration.config_maps.forEach((ref, index) => {
    if (!names.configMaps.has(`${namespace}/${ref.name}`)) missing("config map", ref.name, names.configMaps, ["spec", "configuration", "config_maps", index]);
  });
  value.spec.configuration.secrets.forEach((ref, index) => {
    if (!names.secrets.has(`${namespace}/${ref.name}`)) missing("secret", ref.name, names.secrets, ["spec", "configuration", "secrets", index]);
  });
  (value.spec.configuration.databases ?? []).forEach((link, index) => {
    if (!names.databases.has(`${namespace}/${link.name}`)) missing("database", link.name, names.databases, ["spec", "configuration", "databases", index, "name"]);
  });
  return issues;
}

/** Each service port is a listener on this machine: two services cannot share one. */
function checkPortClashes(services: Located<ServiceDescriptor>[], known: KnownObjects): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const owners = new Map<number, string>();
  const inSet = new Set(services.map((s) => qualifiedName(s.value.metadata)));
  for (const [name, { ports }] of known.services) if (!inSet.has(name)) for (const port of ports) owners.set(port, name);
  for (const { doc, value } of services) {
    const name = qualifiedName(value.metadata);
    const claim = (port: number, path: Array<string | number>) => {
      const owner = owners.get(port);
      if (owner && owner !== name) issues.push(issueAt(doc, path, `port ${port} is already used by service "${owner}"`));
      else owners.set(port, name);
    };
    value.spec.networking.ports.forEach((port, index) => claim(port.port, ["spec", "networking", "ports", index, "port"]));
    if (value.spec.runtime === "process") {
      value.spec.networking.ports.forEach((port, index) => {
        if (port.target_port !== undefined && port.target_port !== port.port) claim(port.target_port, ["spec", "networking", "ports", index, "target_port"]);
      });
    }
  }
  return issues;
}

function checkCycles(services: Located<ServiceDescriptor>[], known: KnownObjects): SpecIssue[] {
  const edges = new Map<string, string[]>();
  for (const [name, { dependencies }] of known.services) edges.set(name, dependencies);
  for (const { value } of services) {
    edges.set(qualifiedName(value.metadata), value.spec.dependencies.map((d) => `${value.metadata.namespace}/${d.name}`));
  }
  const issues: SpecIssue[] = [];
  const reported = new Set<string>();
  for (const { doc, value } of services) {
    const start = qualifiedName(value.metadata);
    const cycle = findCycle(start, edges);
    if (!cycle || cycle.some((n) => reported.has(n))) continue;
    cycle.forEach((n) => reported.add(n));
    const index = value.spec.dependencies.findIndex((d) => `${value.metadata.namespace}/${d.name}` === cycle[1]);
    const shown = cycle.map((n) => n.split("/")[1]).join(" → ");
    issues.push(issueAt(doc, ["spec", "dependencies", Math.max(index, 0), "name"], `dependency cycle: ${shown}`));
  }
  return issues;
}

/** A path start → … → start, or undefined when start is on no cycle. */
function findCycle(start: string, edges: Map<string, string[]>): string[] | undefined {
  const stack: string[] = [start];
  const visited = new Set<string>();
  const walk = (node: string): string[] | undefined => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) return [...stack, start];
      if (visited.has(next)) continue;
      visited.add(next);
      stack.push(next);
      const found = walk(next);
      if (found) return found;
      stack.pop();
    }
    return undefined;
  };
  return walk(start);
}

/** Whether a scaling section asks drover to change the replica count by itself. */
export function autoscales(scaling: NonNullable<ServiceDescriptor["spec"]["scaling"]>): boolean {
  const { target_cpu_utilization, target_memory_utilization, target_rps_per_replica, target_latency_p95, rules, predictive } = scaling;
  return [target_cpu_utilization, target_memory_utilization, target_rps_per_replica, target_latency_p95].some((t) => t !== undefined) || rules.length > 0 || predictive?.enabled === true;
}
