/**
 * Normalised descriptors: every default filled in, every unit converted (durations in ms, CPU in
 * millicores, memory in bytes), every name resolved. This is what is stored in a revision.
 */
import type { ConfigMapDocument, SecretDocument } from "./config-schema.js";
import type { CronJobSpecParsed, JobSpecParsed } from "./job-schema.js";
import type { PortSpec, ServiceDocumentParsed, ServiceSpecParsed } from "./service-schema.js";

export type NamedPort = PortSpec & { name: string };

export type ServiceSpec = Omit<ServiceSpecParsed, "runtime" | "replicas" | "working_dir" | "networking"> & {
  runtime: "process" | "docker";
  replicas: number;
  /** Absolute; relative paths in a descriptor are resolved against the descriptor's folder. */
  working_dir: string;
  networking: { ports: NamedPort[]; load_balancing: "round_robin" | "least_connections" };
};

export type Metadata = ServiceDocumentParsed["metadata"];

export interface ServiceDescriptor {
  apiVersion: string;
  kind: "Service";
  metadata: Metadata;
  spec: ServiceSpec;
}

/** A Job or a CronJob: its workload as a one-replica service without ports would run it, and how runs go. */
export interface JobDescriptor {
  apiVersion: string;
  kind: "Job" | "CronJob";
  metadata: Metadata;
  spec: Omit<JobSpecParsed, WorkloadKey> & {
    workload: ServiceSpec;
    /** CronJob only: when runs start. */
    cron?: Omit<CronJobSpecParsed, "job">;
  };
}

/** A Database as applied: its document, and the credentials secret the server keeps for it. */
export interface DatabaseDescriptor {
  /** `namespace/name`, also its service's name. */
  name: string;
  document: import("./database-schema.js").DatabaseDocument;
  credentials: { secret: string; keys: string[]; port: number };
  backupJob: string | null;
}

/** The fields a job shares with a service. */
export const WORKLOAD_KEYS = ["runtime", "command", "working_dir", "image", "placement", "resources", "stop", "configuration", "security"] as const;
export type WorkloadKey = (typeof WORKLOAD_KEYS)[number];

export type ConfigMapDescriptor = ConfigMapDocument;
export type SecretDescriptor = SecretDocument;

export interface DescriptorSet {
  services: ServiceDescriptor[];
  configMaps: ConfigMapDescriptor[];
  secrets: SecretDescriptor[];
  policies: import("./config-schema.js").PolicyDocument[];
  pools: import("./pool-schema.js").NodePoolDocument[];
  jobs: JobDescriptor[];
  /** Databases (kind: Database); their service and backup job are in `services` and `jobs` too. */
  databases: DatabaseDescriptor[];
  /** Things that are not wrong in themselves but need attention, e.g. references outside the file. */
  warnings: import("./errors.js").SpecIssue[];
}

/** `namespace/name`, the key services, config maps and secrets are stored under. */
export function qualifiedName(metadata: { namespace: string; name: string }): string {
  return `${metadata.namespace}/${metadata.name}`;
}
