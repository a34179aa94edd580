/**
 * Normalised descriptors: every default filled in, every unit converted (durations in ms, CPU in
 * millicores, memory in bytes), every name resolved. This is what is stored in a revision.
 */
import type { ConfigMapDocument, SecretDocument } from "./config-schema.js";
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

export type ConfigMapDescriptor = ConfigMapDocument;
export type SecretDescriptor = SecretDocument;

export interface DescriptorSet {
  services: ServiceDescriptor[];
  configMaps: ConfigMapDescriptor[];
  secrets: SecretDescriptor[];
  policies: import("./config-schema.js").PolicyDocument[];
  pools: import("./pool-schema.js").NodePoolDocument[];
  /** Things that are not wrong in themselves but need attention, e.g. references outside the file. */
  warnings: import("./errors.js").SpecIssue[];
}

/** `namespace/name`, the key services, config maps and secrets are stored under. */
export function qualifiedName(metadata: { namespace: string; name: string }): string {
  return `${metadata.namespace}/${metadata.name}`;
}
