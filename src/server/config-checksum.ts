/**
 * Config maps and secrets are part of what a revision runs: a service's revision carries a
 * checksum of the config maps and secrets it references (the annotation
 * drover.dev/config-checksum), so changing one is a new revision of every service that uses it,
 * rolled out with that service's strategy — and rolled back like any other change.
 */
import { credentialsSecretName, type ServiceDescriptor } from "../spec/index.js";
import { contentHash } from "./apply-plan.js";

export const CONFIG_CHECKSUM_ANNOTATION = "drover.dev/config-checksum";

/** `kind:namespace/name` → the object's hash (secrets: a keyed hash; see SecretBox.digest). */
export type ObjectHashes = Map<string, string>;

export function objectKey(kind: string, name: string): string {
  return `${kind}:${name}`;
}

/** The config maps and secrets a service uses, as object keys: a linked database's credentials too. */
export function referencedKeys(descriptor: ServiceDescriptor): string[] {
  const ns = descriptor.metadata.namespace;
  const { config_maps, secrets, databases } = descriptor.spec.configuration;
  return [
    ...config_maps.map((r) => objectKey("ConfigMap", `${ns}/${r.name}`)),
    ...secrets.map((r) => objectKey("Secret", `${ns}/${r.name}`)),
    ...(databases ?? []).map((d) => objectKey("Secret", `${ns}/${credentialsSecretName(d.name)}`)),
  ];
}

/** The descriptor with the checksum of what it references; unchanged when it references nothing. */
export function withConfigChecksum(descriptor: ServiceDescriptor, hashes: ObjectHashes): ServiceDescriptor {
  const refs = referencedKeys(descriptor);
  const { [CONFIG_CHECKSUM_ANNOTATION]: _previous, ...annotations } = descriptor.metadata.annotations ?? {};
  if (refs.length === 0) return { ...descriptor, metadata: { ...descriptor.metadata, annotations } };
  const checksum = contentHash(refs.map((key) => [key, hashes.get(key) ?? null])).slice(0, 16);
  return { ...descriptor, metadata: { ...descriptor.metadata, annotations: { ...annotations, [CONFIG_CHECKSUM_ANNOTATION]: checksum } } };
}
