/**
 * Planning an apply: descriptors loaded against what exists, with admission (every service
 * checked against the policies that cover it, signatures included), then compared with the
 * store — per object created, changed (field by field), unchanged or deleted — and the batch that
 * would make it so, services following a changed config map or secret included. Changes nothing.
 */
import crypto from "node:crypto";
import { evaluatePolicies } from "../security/policy.js";
import { checkSignature, type trustedKeys } from "../security/signatures.js";
import { DATABASE_ANNOTATION, databaseLayout, databaseUrls, hostPortsOf, loadDescriptors, qualifiedName, SpecError, type DescriptorFile, type KnownObjects, type SpecIssue } from "../spec/index.js";
import type { ApplyBatch, ServiceChange, Store } from "../store/store.js";
import { contentHash, diffValues, redact, revisionDescriptor } from "./apply-plan.js";
import { objectKey, withConfigChecksum } from "./config-checksum.js";
import type { ConfigObjects } from "./config-objects.js";
import type { PlanEntry } from "../contract/index.js";

export class Planner {
  constructor(
    private readonly store: Store,
    private readonly configObjects: ConfigObjects,
    /** The public keys signed descriptors are checked against. */
    private readonly trusted: () => ReturnType<typeof trustedKeys>,
  ) {}

  /** Validates against the files and what exists; throws SpecError, changes nothing. */
  async plan(files: DescriptorFile[], prune: boolean): Promise<{ entries: PlanEntry[]; warnings: SpecIssue[]; deletions: string[]; batch: Omit<ApplyBatch, "author" | "message"> }> {
    const set = await this.load(files);
    const entries: PlanEntry[] = [];
    const policies: NonNullable<ApplyBatch["policies"]> = [];
    const storedPolicies = new Map((await this.store.listPolicies()).map((p) => [p.name, p]));
    for (const document of set.policies) {
      const name = qualifiedName(document.metadata);
      const hash = contentHash(document);
      const existing = storedPolicies.get(name);
      policies.push({ name, document, hash });
      entries.push({ kind: "Policy", name, action: !existing ? "create" : existing.hash !== hash ? "change" : "unchanged", changes: existing ? diffValues(existing.document, document) : [] });
    }
    const pools: NonNullable<ApplyBatch["pools"]> = [];
    for (const document of set.pools) {
      const name = document.metadata.name;
      const hash = contentHash(document);
      const existing = await this.store.getPool(name);
      pools.push({ name, document, hash });
      entries.push({ kind: "NodePool", name, action: !existing ? "create" : existing.hash !== hash ? "change" : "unchanged", changes: existing ? diffValues(existing.document, document) : [] });
    }
    const jobs: NonNullable<ApplyBatch["jobs"]> = [];
    for (const descriptor of set.jobs) {
      const name = qualifiedName(descriptor.metadata);
      const hash = contentHash(descriptor);
      const existing = await this.store.getJob(name);
      jobs.push({ name, descriptor, hash });
      entries.push({ kind: descriptor.kind, name, action: !existing ? "create" : existing.hash !== hash ? "change" : "unchanged", changes: existing ? diffValues(existing.descriptor, descriptor) : [] });
    }
    const hashes = await this.configObjects.hashes();
    const configObjects: ApplyBatch["configObjects"] = [];
    const changedObjects = new Set<string>();
    // A database's credentials: generated once, kept on every apply (a new user gets a new password).
    for (const database of set.databases) {
      const name = `${database.document.metadata.namespace}/${database.credentials.secret}`;
      const existing = await this.store.getConfigObject("Secret", name);
      const data = { ...existing?.data };
      for (const key of database.credentials.keys) data[key] ??= crypto.randomBytes(18).toString("base64url");
      Object.assign(data, databaseUrls({ databases: databaseLayout(database.document).databases, port: database.document.spec.port }, data));
      if (existing && diffValues(existing.data, data).length === 0) {
        entries.push({ kind: "Secret", name, action: "unchanged", changes: [] });
        continue;
      }
      const hash = this.configObjects.hash("Secret", data);
      configObjects.push({ kind: "Secret", name, data, hash });
      changedObjects.add(objectKey("Secret", name));
      hashes.set(objectKey("Secret", name), hash);
      entries.push({ kind: "Secret", name, action: existing ? "change" : "create", changes: existing ? redact(diffValues(existing.data, data)) : [] });
    }
    for (const object of [...set.configMaps, ...set.secrets]) {
      const name = qualifiedName(object.metadata);
      const existing = await this.store.getConfigObject(object.kind, name);
      const hash = this.configObjects.hash(object.kind, object.data);
      configObjects.push({ kind: object.kind, name, data: object.data, hash });
      if (existing?.hash !== hash) changedObjects.add(objectKey(object.kind, name));
      hashes.set(objectKey(object.kind, name), hash);
      const changes = diffValues(existing?.data ?? {}, object.data);
      const shown = object.kind === "Secret" ? redact(changes) : changes;
      entries.push({ kind: object.kind, name, action: !existing ? "create" : changes.length ? "change" : "unchanged", changes: existing ? shown : [] });
    }
    const services: ServiceChange[] = [];
    for (const descriptor of set.services) {
      const name = qualifiedName(descriptor.metadata);
      const revision = withConfigChecksum(revisionDescriptor(descriptor), hashes);
      services.push({ name, descriptor: revision, hash: contentHash(revision), replicas: descriptor.spec.replicas });
      const service = await this.store.getService(name);
      if (!service || service.deleting) {
        entries.push({ kind: "Service", name, action: "create", changes: [] });
        continue;
      }
      const current = await this.store.getRevision(name, service.revision);
      const changes = diffValues(current?.descriptor, revision);
      if (service.replicas !== descriptor.spec.replicas) changes.push({ path: "spec.replicas", before: service.replicas, after: descriptor.spec.replicas });
      // Applying a stopped service starts it again (apply states what should run).
      if (!service.enabled) changes.push({ path: "status", before: "stopped", after: "running" });
      entries.push({ kind: "Service", name, action: changes.length ? "change" : "unchanged", changes });
    }
    // Services outside the files that use a config map or secret changing now get a new revision too.
    for (const follower of await this.configObjects.followers(changedObjects, hashes, new Set(services.map((s) => s.name)))) {
      services.push(follower.change);
      entries.push({ kind: "Service", name: follower.change.name, action: "change", changes: follower.changes });
    }
    const deletions: string[] = [];
    if (prune) {
      const namespaces = new Set(set.services.map((s) => s.metadata.namespace));
      const applied = new Set(set.services.map((s) => qualifiedName(s.metadata)));
      for (const service of await this.store.listServices()) {
        if (namespaces.has(service.namespace) && !applied.has(service.name) && !service.deleting) {
          deletions.push(service.name);
          entries.push({ kind: "Service", name: service.name, action: "delete", changes: [] });
        }
      }
    }
    return { entries, warnings: set.warnings, deletions, batch: { services, configObjects, deletions, policies, pools, jobs } };
  }

  /**
   * Admission alone: the policy violations of the services in `files` (the stored policies and
   * those in the files), each at its field's place, enforced or warned. Changes nothing.
   * @throws SpecError when the files are invalid for another reason.
   */
  async policyTest(files: DescriptorFile[]): Promise<SpecIssue[]> {
    try {
      return (await this.load(files)).warnings.filter((w) => w.policy);
    } catch (error) {
      if (error instanceof SpecError && error.issues.filter((i) => i.severity === "error").every((i) => i.policy)) return error.issues.filter((i) => i.policy);
      throw error;
    }
  }

  /** Loads descriptors against what exists, with admission: every service checked against every policy that covers it. */
  private async load(files: DescriptorFile[]): Promise<ReturnType<typeof loadDescriptors>> {
    const stored = await this.store.listPolicies();
    const trusted = this.trusted();
    const signatures = new Map(files.map((f) => [f.file, checkSignature(f.text, f.signature, trusted)]));
    return loadDescriptors(files, {
      known: await this.knownObjects(),
      unresolved: "wait",
      admit: (service, file, inFiles) => {
        // A policy in the files replaces the stored one of the same name.
        const replaced = new Set(inFiles.map((p) => qualifiedName(p.metadata)));
        const policies = [...stored.filter((p) => !replaced.has(p.name)).map((p) => p.document), ...inFiles];
        return evaluatePolicies(policies, service, signatures.get(file)!);
      },
    });
  }

  private async knownObjects(): Promise<KnownObjects> {
    const services = new Map<string, { dependencies: string[]; ports: number[] }>();
    for (const service of await this.store.listServices()) {
      if (service.deleting) continue;
      const revision = await this.store.getRevision(service.name, service.revision);
      if (!revision) continue;
      const { descriptor } = revision;
      services.set(service.name, {
        dependencies: descriptor.spec.dependencies.map((d) => `${service.namespace}/${d.name}`),
        ports: hostPortsOf(descriptor.spec),
        ...(descriptor.metadata.annotations?.[DATABASE_ANNOTATION] ? { database: descriptor.metadata.annotations[DATABASE_ANNOTATION] } : {}),
      });
    }
    const objects = await this.store.listConfigObjectHashes();
    return {
      services,
      configMaps: new Set(objects.filter((o) => o.kind === "ConfigMap").map((o) => o.name)),
      secrets: new Set(objects.filter((o) => o.kind === "Secret").map((o) => o.name)),
    };
  }
}
