/**
 * Config maps and secrets as the control plane manages them: their hashes (keyed for secrets),
 * the services that must follow a change with a new revision, and the secret operations of
 * `drover secret` — values go in, never out.
 */
import { ConflictError, BadRequestError, NotFoundError } from "../errors.js";
import type { SecretBox } from "../security/secret-box.js";
import { databaseOfService, databaseUrls, type ServiceDescriptor } from "../spec/index.js";
import type { AppliedService, FieldChange, ServiceRecord } from "../contract/index.js";
import type { ServiceChange, Store } from "../store/store.js";
import { contentHash, diffValues } from "./apply-plan.js";
import { objectKey, referencedKeys, withConfigChecksum, type ObjectHashes } from "./config-checksum.js";
import type { EventBus } from "./event-bus.js";
import type { SecretRedactor } from "./secret-redactor.js";

const QUALIFIED_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export class ConfigObjects {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly events: EventBus,
    private readonly redactor: SecretRedactor,
    /** Called after a change is stored, so the reconciler acts on it. */
    private readonly changed: () => void,
  ) {}

  /** A config map's content hash; a secret's keyed hash, so the store holds nothing to test guesses against. */
  hash(kind: "ConfigMap" | "Secret", data: Record<string, string>): string {
    return kind === "Secret" ? this.secrets.digest(contentHash(data)) : contentHash(data);
  }

  /** Every stored object's hash by key (no secret decrypted). */
  async hashes(): Promise<ObjectHashes> {
    return new Map((await this.store.listConfigObjectHashes()).map((o) => [objectKey(o.kind, o.name), o.hash]));
  }

  /** Services (other than `skip`) whose revision references a changed object: the same spec with the new checksum. */
  async followers(changed: Set<string>, hashes: ObjectHashes, skip: Set<string>): Promise<Array<{ change: ServiceChange; changes: FieldChange[] }>> {
    if (changed.size === 0) return [];
    const followers = [];
    for (const { service, descriptor } of await this.services()) {
      if (skip.has(service.name) || !referencedKeys(descriptor).some((key) => changed.has(key))) continue;
      const next = withConfigChecksum(descriptor, hashes);
      const changes = diffValues(descriptor, next);
      if (changes.length) followers.push({ change: { name: service.name, descriptor: next, hash: contentHash(next), replicas: service.replicas }, changes });
    }
    return followers;
  }

  /** Secrets by name with their keys (never values), for `drover secret list`. */
  async listSecrets(): Promise<Array<{ name: string; keys: string[]; version: number; updatedAt: number; usedBy: string[] }>> {
    const services = await this.services();
    return (await this.store.listConfigObjects("Secret")).map((s) => ({
      name: s.name,
      keys: Object.keys(s.data).sort(),
      version: s.version,
      updatedAt: s.updatedAt,
      usedBy: usersOf(services, "Secret", s.name),
    }));
  }

  /**
   * Sets keys of a secret (all of them with `replace`), creating it when new; every service that
   * uses it gets a new revision. Returns the keys that changed (never values).
   */
  async setSecret(name: string, data: Record<string, string>, options: { replace: boolean; author: string }): Promise<{ name: string; version: number; changedKeys: string[]; services: AppliedService[] }> {
    if (!QUALIFIED_NAME.test(name)) throw new BadRequestError("expected namespace/name, lowercase letters, digits and '-'", "name");
    const existing = await this.store.getConfigObject("Secret", name);
    const next = options.replace ? data : { ...existing?.data, ...data };
    // A database's credentials: its URLs follow its passwords, so linked services get working ones.
    const database = (await this.services()).map((s) => databaseOfService(s.descriptor)).find((d) => d?.secret === name);
    if (database) Object.assign(next, databaseUrls(database, next));
    const changedKeys = diffValues(existing?.data ?? {}, next).map((c) => c.path);
    if (changedKeys.length === 0) return { name, version: existing!.version, changedKeys, services: [] };
    const hash = this.hash("Secret", next);
    const hashes = await this.hashes();
    hashes.set(objectKey("Secret", name), hash);
    const followers = await this.followers(new Set([objectKey("Secret", name)]), hashes, new Set());
    const result = await this.store.apply({ services: followers.map((f) => f.change), configObjects: [{ kind: "Secret", name, data: next, hash }], deletions: [], author: options.author, message: `secret ${name}: ${changedKeys.join(", ")} changed` });
    await this.redactor.refresh();
    this.events.publish(result.events);
    this.changed();
    return { name, version: (existing?.version ?? 0) + 1, changedKeys, services: result.services };
  }

  /** Deletes a secret no service uses. */
  async deleteSecret(name: string): Promise<void> {
    if (!(await this.store.getConfigObject("Secret", name))) throw new NotFoundError(`no secret "${name}"`);
    const users = usersOf(await this.services(), "Secret", name);
    if (users.length) throw new ConflictError(`secret "${name}" is used by ${users.join(", ")}: change those first`);
    await this.store.deleteConfigObject("Secret", name);
    await this.events.emit({ type: "SecretDeleted", service: null, replica: null, reason: "Deleted", message: `secret ${name}` });
  }

  private async services(): Promise<Array<{ service: ServiceRecord; descriptor: ServiceDescriptor }>> {
    const result = [];
    for (const service of await this.store.listServices()) {
      if (service.deleting) continue;
      const revision = await this.store.getRevision(service.name, service.revision);
      if (revision) result.push({ service, descriptor: revision.descriptor });
    }
    return result;
  }
}

function usersOf(services: Array<{ service: ServiceRecord; descriptor: ServiceDescriptor }>, kind: string, name: string): string[] {
  const key = objectKey(kind, name);
  return services.filter((s) => referencedKeys(s.descriptor).includes(key)).map((s) => s.service.name);
}
