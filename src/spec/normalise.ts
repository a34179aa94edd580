/** From parsed documents to the normalised descriptors that are stored: names, paths and defaults resolved. */
import path from "node:path";
import type { JobSpecParsed } from "./job-schema.js";
import { serviceSpecSchema, type ServiceDocumentParsed } from "./service-schema.js";
import { WORKLOAD_KEYS, type JobDescriptor, type Metadata, type NamedPort, type ServiceDescriptor, type WorkloadKey } from "./types.js";

export function normaliseService(parsed: ServiceDocumentParsed, baseDir: string): ServiceDescriptor {
  const { spec } = parsed;
  const onlyPort = spec.networking.ports.length === 1;
  const ports: NamedPort[] = spec.networking.ports.map((p) => ({ ...p, name: p.name ?? (onlyPort ? "http" : `port-${p.port}`) }));
  return {
    apiVersion: parsed.apiVersion,
    kind: "Service",
    metadata: parsed.metadata,
    spec: {
      ...spec,
      runtime: spec.runtime ?? (spec.image ? "docker" : "process"),
      replicas: spec.replicas ?? spec.scaling?.min_replicas ?? 1,
      working_dir: path.resolve(baseDir, spec.working_dir ?? "."),
      networking: { ports, load_balancing: spec.networking.load_balancing },
    },
  };
}

export function normaliseJobDocument(parsed: { apiVersion: string; kind: "Job" | "CronJob"; metadata: Metadata }, job: JobSpecParsed, baseDir: string, cron?: JobDescriptor["spec"]["cron"]): JobDescriptor {
  const fields = Object.fromEntries(WORKLOAD_KEYS.map((key) => [key, job[key]]));
  const rest = Object.fromEntries(Object.entries(job).filter(([key]) => !(WORKLOAD_KEYS as readonly string[]).includes(key))) as Omit<JobSpecParsed, WorkloadKey>;
  // The workload as a service of one replica without ports: the launch, limits and placement are the service's own.
  const workload = normaliseService({ apiVersion: parsed.apiVersion, kind: "Service", metadata: parsed.metadata, spec: { ...serviceSpecSchema.parse({}), ...fields, replicas: 1 } }, baseDir).spec;
  return { apiVersion: parsed.apiVersion, kind: parsed.kind, metadata: parsed.metadata, spec: { ...rest, workload, ...(cron ? { cron } : {}) } };
}

