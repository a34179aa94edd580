/**
 * The control plane's operations, as the API exposes them: plan and apply descriptors, change a
 * service's desired state, and read what is going on. It changes desired state in the store and
 * wakes the reconciler; it never touches a workload itself.
 */
import type { ProbeReport } from "../agent/probes/probe.js";
import type { ResourceUsage } from "../agent/drivers/driver.js";
import type { NodeAgent, ServiceTraffic } from "../agent/node-agent.js";
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from "../errors.js";
import { evaluatePolicies } from "../security/policy.js";
import { checkSignature, type trustedKeys } from "../security/signatures.js";
import { closest, loadDescriptors, qualifiedName, SpecError, type DescriptorFile, type KnownObjects, type SpecIssue } from "../spec/index.js";
import type { EventRecord, MetricPoint, ReplicaRecord, RevisionRecord, RolloutRecord, ServiceRecord } from "../store/records.js";
import { downsample, MetricHistory, RETENTION_DAYS } from "./metric-history.js";
import { recommend, type Recommendations } from "./autoscale/recommend.js";
import { STRATEGY_ANNOTATION } from "../rollout/controller.js";
import { canarySteps } from "../rollout/strategies.js";
import { rollBack, rollbackTarget } from "./rollback.js";
import type { AppliedService, ApplyBatch, ServiceChange, Store } from "../store/store.js";
import { objectKey, referencedKeys, withConfigChecksum, type ObjectHashes } from "./config-checksum.js";
import type { SecretBox } from "../security/secret-box.js";
import type { ServiceDescriptor } from "../spec/index.js";
import { contentHash, diffValues, redact, revisionDescriptor, type FieldChange, type PlanEntry } from "./apply-plan.js";
import { EventBus } from "./event-bus.js";
import { SecretRedactor } from "./secret-redactor.js";
import { Reconciler } from "./reconciler.js";
import { Autoscaler, type AutoscaleStatus } from "./autoscale/autoscaler.js";
import { serverLog } from "./server-log.js";
import { objectKeys, serviceStatus, waitsOf, type ServiceStatus } from "./service-status.js";

export interface ApplyOptions {
  author: string;
  message: string;
  prune: boolean;
  dryRun: boolean;
  /** False for callers below admin: an apply that would change a Policy is refused. */
  mayChangePolicies?: boolean;
}

export interface ServiceSummary {
  name: string;
  namespace: string;
  revision: number;
  desired: number;
  ready: number;
  status: ServiceStatus;
  restarts: number;
  ports: Array<{ name: string; port: number }>;
  waitingFor: string[];
  /** Why the service cannot run at all, e.g. its image cannot be had; null when nothing is wrong that way. */
  problem: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ReplicaView extends ReplicaRecord {
  usage: ResourceUsage | null;
  /** Each probe's verdict and latest result, from the agent (only with details). */
  probes: ProbeReport[];
  /** Where the runtime's own tools find it (a container), from the agent (only with details). */
  where?: string;
}

export interface RolloutStatusView {
  service: string;
  desired: number;
  revision: number;
  rollout: RolloutRecord | null;
  steps: Array<{ weight: number; pause: number }>;
  replicas: { to: { total: number; ready: number }; from: { total: number; ready: number } };
  weights: Record<string, number> | null;
  history: RolloutRecord[];
}

export interface TopView {
  energySource: "rapl" | "model";
  host: { utilisation: number | null; watts: number };
  services: Array<{
    name: string;
    ready: number;
    desired: number;
    point: MetricPoint | null;
    replicas: Array<{ id: string; state: string; figures: { cpuCores: number; memoryBytes: number; watts: number; joulesTotal: number } | null }>;
  }>;
}

export class ControlPlane {
  private readonly events: EventBus;
  private readonly redactor: SecretRedactor;
  private readonly reconciler: Reconciler;
  private readonly samples: MetricHistory;
  private readonly autoscaler: Autoscaler;

  constructor(
    readonly store: Store,
    readonly agent: NodeAgent,
    private readonly secrets: SecretBox,
    /** Called before an apply that changes something is stored (a snapshot of the store). */
    private readonly beforeDeploy: () => Promise<void> = async () => undefined,
    /** The public keys signed descriptors are checked against. */
    private readonly trusted: () => ReturnType<typeof trustedKeys> = () => [],
  ) {
    this.redactor = new SecretRedactor(store);
    this.events = new EventBus(store, (text) => this.redactor.redact(text));
    this.reconciler = new Reconciler(store, agent, this.events);
    this.samples = new MetricHistory(store, agent, agent.metrics().intervalMs);
    this.autoscaler = new Autoscaler(store, this.events, () => this.samples.latest(), agent.metrics().intervalMs, () => this.reconciler.wake());
  }

  /** Re-adopts what the agent runs and starts reconciling. */
  async start(): Promise<void> {
    await this.redactor.refresh();
    await this.reconciler.start();
    this.samples.start(() => this.autoscaler.evaluate().catch((error: Error) => serverLog("error", "autoscaling failed", { error: error.message })));
  }

  subscribe(listener: (event: EventRecord) => void): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    this.samples.stop();
    await this.reconciler.close();
    await this.agent.close();
    await this.store.close();
  }

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
    const hashes = await this.objectHashes();
    const configObjects: ApplyBatch["configObjects"] = [];
    const changedObjects = new Set<string>();
    for (const object of [...set.configMaps, ...set.secrets]) {
      const name = qualifiedName(object.metadata);
      const existing = await this.store.getConfigObject(object.kind, name);
      const hash = this.objectHash(object.kind, object.data);
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
    for (const follower of await this.followers(changedObjects, hashes, new Set(services.map((s) => s.name)))) {
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
    return { entries, warnings: set.warnings, deletions, batch: { services, configObjects, deletions, policies } };
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

  async apply(files: DescriptorFile[], options: ApplyOptions): Promise<{ entries: PlanEntry[]; warnings: SpecIssue[]; services: AppliedService[] }> {
    const { entries, warnings, batch } = await this.plan(files, options.prune);
    if (options.mayChangePolicies === false && entries.some((e) => e.kind === "Policy" && e.action !== "unchanged")) {
      throw new ForbiddenError("changing a Policy needs an admin token");
    }
    if (options.dryRun) return { entries, warnings, services: [] };
    if (entries.some((e) => e.action !== "unchanged")) await this.beforeDeploy();
    const result = await this.store.apply({ ...batch, author: options.author, message: options.message });
    if (batch.configObjects.some((o) => o.kind === "Secret")) await this.redactor.refresh();
    this.events.publish(result.events);
    this.reconciler.wake();
    return { entries, warnings, services: result.services };
  }

  /** Secrets by name with their keys (never values), for `drover secret list`. */
  async listSecrets(): Promise<Array<{ name: string; keys: string[]; version: number; updatedAt: number; usedBy: string[] }>> {
    const services = await this.servicesWithDescriptors();
    return (await this.store.listConfigObjects("Secret")).map((s) => ({
      name: s.name,
      keys: Object.keys(s.data).sort(),
      version: s.version,
      updatedAt: s.updatedAt,
      usedBy: services.filter((d) => referencedKeys(d.descriptor).includes(objectKey("Secret", s.name))).map((d) => d.name),
    }));
  }

  /**
   * Sets keys of a secret (all of them with `replace`), creating it when new; every service that
   * uses it gets a new revision. Returns the keys that changed (never values).
   */
  async setSecret(name: string, data: Record<string, string>, options: { replace: boolean; author: string }): Promise<{ name: string; version: number; changedKeys: string[]; services: AppliedService[] }> {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new BadRequestError("expected namespace/name, lowercase letters, digits and '-'", "name");
    const existing = await this.store.getConfigObject("Secret", name);
    const next = options.replace ? data : { ...existing?.data, ...data };
    const changedKeys = diffValues(existing?.data ?? {}, next).map((c) => c.path);
    if (changedKeys.length === 0) return { name, version: existing!.version, changedKeys, services: [] };
    const hash = this.objectHash("Secret", next);
    const hashes = await this.objectHashes();
    hashes.set(objectKey("Secret", name), hash);
    const followers = await this.followers(new Set([objectKey("Secret", name)]), hashes, new Set());
    const result = await this.store.apply({ services: followers.map((f) => f.change), configObjects: [{ kind: "Secret", name, data: next, hash }], deletions: [], author: options.author, message: `secret ${name}: ${changedKeys.join(", ")} changed` });
    await this.redactor.refresh();
    this.events.publish(result.events);
    this.reconciler.wake();
    return { name, version: (await this.store.getConfigObject("Secret", name))!.version, changedKeys, services: result.services };
  }

  /** Deletes a secret no service uses. */
  async deleteSecret(name: string): Promise<void> {
    const existing = await this.store.getConfigObject("Secret", name);
    if (!existing) throw new NotFoundError(`no secret "${name}"`);
    const users = (await this.servicesWithDescriptors()).filter((d) => referencedKeys(d.descriptor).includes(objectKey("Secret", name))).map((d) => d.name);
    if (users.length) throw new ConflictError(`secret "${name}" is used by ${users.join(", ")}: change those first`);
    await this.store.deleteConfigObject("Secret", name);
    await this.events.emit({ type: "SecretDeleted", service: null, replica: null, reason: "Deleted", message: `secret ${name}` });
  }

  /** A config map's content hash; a secret's keyed hash, so the store holds nothing to test guesses against. */
  private objectHash(kind: "ConfigMap" | "Secret", data: Record<string, string>): string {
    return kind === "Secret" ? this.secrets.digest(contentHash(data)) : contentHash(data);
  }

  private async objectHashes(): Promise<ObjectHashes> {
    return new Map((await this.store.listConfigObjects()).map((o) => [objectKey(o.kind, o.name), o.hash]));
  }

  private async servicesWithDescriptors(): Promise<Array<{ name: string; service: ServiceRecord; descriptor: ServiceDescriptor }>> {
    const result = [];
    for (const service of await this.store.listServices()) {
      if (service.deleting) continue;
      result.push({ name: service.name, service, descriptor: (await this.revisionOf(service)).descriptor });
    }
    return result;
  }

  /** Services (other than `skip`) whose revision references a changed object: the same spec with the new checksum. */
  private async followers(changed: Set<string>, hashes: ObjectHashes, skip: Set<string>): Promise<Array<{ change: ServiceChange; changes: FieldChange[] }>> {
    if (changed.size === 0) return [];
    const followers = [];
    for (const { name, service, descriptor } of await this.servicesWithDescriptors()) {
      if (skip.has(name) || !referencedKeys(descriptor).some((key) => changed.has(key))) continue;
      const next = withConfigChecksum(descriptor, hashes);
      const changes = diffValues(descriptor, next);
      if (changes.length) followers.push({ change: { name, descriptor: next, hash: contentHash(next), replicas: service.replicas }, changes });
    }
    return followers;
  }

  async listServices(): Promise<ServiceSummary[]> {
    const services = await this.store.listServices();
    const replicas = await this.store.listReplicas();
    const readyServices = new Set(replicas.filter((r) => r.state === "ready").map((r) => r.service));
    const objects = objectKeys(await this.store.listConfigObjects());
    const summaries: ServiceSummary[] = [];
    for (const service of services) {
      const own = replicas.filter((r) => r.service === service.name);
      const { descriptor } = await this.revisionOf(service);
      const waitingFor = waitsOf(descriptor, readyServices, objects);
      const problem = this.reconciler.preparations.problem(service.name, service.revision);
      summaries.push({
        name: service.name,
        namespace: service.namespace,
        revision: service.revision,
        desired: service.enabled && !service.deleting ? service.replicas : 0,
        ready: own.filter((r) => r.state === "ready" && r.revision === service.revision).length,
        status: serviceStatus(service, own, waitingFor, problem),
        restarts: own.reduce((sum, r) => sum + r.restarts, 0),
        ports: descriptor.spec.networking.ports.map((p) => ({ name: p.name, port: p.port })),
        waitingFor,
        problem: problem?.message ?? null,
        createdAt: service.createdAt,
        updatedAt: service.updatedAt,
      });
    }
    return summaries;
  }

  async describe(input: string): Promise<{ service: ServiceSummary; revision: RevisionRecord; replicas: ReplicaView[]; events: EventRecord[] }> {
    const name = await this.resolveName(input);
    const summary = (await this.listServices()).find((s) => s.name === name)!;
    const service = (await this.store.getService(name))!;
    const replicas = await this.replicas(name, true);
    return { service: summary, revision: await this.revisionOf(service), replicas, events: await this.store.listEvents({ service: name, limit: 20 }) };
  }

  /** Replicas of one service or all; with `details`, each with its CPU time, memory and probe results. */
  async replicas(input?: string, details = false): Promise<ReplicaView[]> {
    const replicas = await this.store.listReplicas(input ? await this.resolveName(input) : undefined);
    const statuses = details ? new Map((await this.agent.list()).map((s) => [s.id, s])) : undefined;
    const probes = (id: string) => (statuses?.get(id)?.probes ?? []).map((p) => (p.last ? { ...p, last: { ...p.last, message: this.redactor.redact(p.last.message) } } : p));
    return Promise.all(replicas.map(async (r) => ({ ...r, usage: details ? await this.agent.usage(r.id) : null, probes: probes(r.id), where: statuses?.get(r.id)?.where })));
  }

  async scale(input: string, replicas: number): Promise<ServiceRecord> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new BadRequestError("must be a whole number, 0 or more", "replicas");
    return this.change(input, { replicas }, "ServiceScaled", "Scaled", `desired replicas ${replicas}`);
  }

  async stopService(input: string): Promise<ServiceRecord> {
    return this.change(input, { enabled: false }, "ServiceStopped", "Stopped", "stopping every replica; desired state is kept");
  }

  async startService(input: string): Promise<ServiceRecord> {
    return this.change(input, { enabled: true }, "ServiceStarted", "Started", "starting replicas");
  }

  async deleteService(input: string): Promise<ServiceRecord> {
    return this.change(input, { deleting: true }, "ServiceDeleting", "Deleted", "stopping every replica, then removing the service");
  }

  /** A rolling restart: a new revision with the same spec and a restart annotation, as `kubectl rollout restart` does. */
  async restartService(input: string, author: string): Promise<AppliedService> {
    const name = await this.resolveName(input);
    const service = (await this.store.getService(name))!;
    const { descriptor } = await this.revisionOf(service);
    const restarted = { ...descriptor, metadata: { ...descriptor.metadata, annotations: { ...descriptor.metadata.annotations, "drover.dev/restarted-at": new Date().toISOString() } } };
    const result = await this.store.apply({
      services: [{ name, descriptor: restarted, hash: contentHash(restarted), replicas: service.replicas }],
      configObjects: [],
      deletions: [],
      author,
      message: "restart",
    });
    this.events.publish(result.events);
    this.reconciler.wake();
    return result.services[0]!;
  }

  /** What the router counted for the service since drover started, per revision (requests, status classes, latency histogram, bytes). */
  /** What the autoscaler sees and decided for a service: metrics against targets, decisions, the forecast. */
  async autoscaleStatus(input: string): Promise<AutoscaleStatus> {
    const name = await this.resolveName(input);
    return this.autoscaler.status((await this.store.getService(name))!);
  }

  /** Right-sized requests and scaling settings from the last week's per-minute history. */
  async recommendations(input: string): Promise<Recommendations & { service: string }> {
    const name = await this.resolveName(input);
    const { descriptor } = await this.revisionOf((await this.store.getService(name))!);
    const now = Date.now();
    const points = await this.store.listMetricMinutes(name, now - RETENTION_DAYS * 86_400_000, now);
    return { service: name, ...recommend(descriptor.spec, points) };
  }

  async traffic(input: string): Promise<ServiceTraffic> {
    const name = await this.resolveName(input);
    return this.agent.traffic(name)[0] ?? { service: name, revisions: [] };
  }

  /**
   * A service's figures over time: from the last hour's samples (`step` at least the sampling
   * interval), or from the per-minute averages for older ranges.
   */
  async metricHistory(input: string, since: number, stepMs: number): Promise<{ service: string; source: "samples" | "minutes"; energySource: "rapl" | "model"; points: MetricPoint[] }> {
    const name = await this.resolveName(input);
    const now = Date.now();
    const energySource = this.agent.metrics().energy.source;
    if (now - since <= 3_600_000) return { service: name, source: "samples", energySource, points: this.samples.recent(name, since, stepMs) };
    const minutes = await this.store.listMetricMinutes(name, since, now);
    return { service: name, source: "minutes", energySource, points: downsample(minutes, Math.max(stepMs, 60_000)) };
  }

  /** What `drover top` shows: per service its latest figures, per replica its CPU, memory and power. */
  async top(): Promise<TopView> {
    const latest = this.samples.latest();
    const sample = this.agent.metrics();
    const replicas = await this.store.listReplicas();
    const services = await this.listServices();
    return {
      energySource: sample.energy.source,
      host: { utilisation: sample.utilisation, watts: sample.energy.watts },
      services: services.map((s) => ({
        name: s.name,
        ready: s.ready,
        desired: s.desired,
        point: latest.get(s.name) ?? null,
        // A replica is in the figures from its second sample on (rates need two): null until then.
        replicas: replicas.filter((r) => r.service === s.name).map((r) => ({ id: r.id, state: r.state, figures: sample.replicas.get(r.id) ?? null })),
      })),
    };
  }

  /** The active or latest rollout, with the replica counts and weights `drover rollout status` shows. */
  async rolloutStatus(input: string): Promise<RolloutStatusView> {
    const name = await this.resolveName(input);
    const service = (await this.store.getService(name))!;
    const rollouts = await this.store.listRollouts(name, 10);
    const replicas = (await this.store.listReplicas(name)).filter((r) => r.state !== "terminating");
    const count = (revision: number) => {
      const of = replicas.filter((r) => r.revision === revision);
      return { total: of.length, ready: of.filter((r) => r.state === "ready").length };
    };
    const latest = rollouts[0] ?? null;
    const descriptor = latest ? (await this.store.getRevision(name, latest.toRevision))?.descriptor : undefined;
    return {
      service: name,
      desired: service.replicas,
      revision: service.revision,
      rollout: latest,
      steps: descriptor && latest?.strategy === "canary" ? canarySteps(descriptor.spec.deployment) : [],
      replicas: latest ? { to: count(latest.toRevision), from: count(latest.fromRevision) } : { to: count(service.revision), from: { total: 0, ready: 0 } },
      weights: this.reconciler.weightsOf(name),
      history: rollouts,
    };
  }

  async rolloutCommand(input: string, action: "pause" | "resume" | "promote" | "abort" | "undo", author: string): Promise<RolloutStatusView> {
    const name = await this.resolveName(input);
    const service = (await this.store.getService(name))!;
    const { descriptor } = await this.revisionOf(service);
    const changed = await this.reconciler.rollouts.command(service, descriptor, action);
    if (!changed) {
      // Without a rollout under way, undo means what it means to kubectl: back to the previous revision.
      if (action === "undo") await this.rollback(name, { author });
      else throw new ConflictError(`${name} has no rollout under way (see drover rollout status ${input})`);
    }
    this.reconciler.wake();
    return this.rolloutStatus(name);
  }

  /**
   * A new revision with the spec of revision `to` (default: the previous good one), rolled out with
   * `strategy` (default: the target's own): immediate (the new set at once, then a switch), gradual
   * (rolling), canary.
   */
  async rollback(input: string, options: { to?: number; strategy?: "immediate" | "gradual" | "canary"; author: string }): Promise<AppliedService & { target: number }> {
    const name = await this.resolveName(input);
    const service = (await this.store.getService(name))!;
    const revisions = await this.store.listRevisions(name);
    const target = options.to !== undefined ? revisions.find((r) => r.number === options.to) : rollbackTarget(revisions, service.revision);
    if (!target) {
      throw options.to !== undefined
        ? new BadRequestError(`${name} has no revision ${options.to} (revisions: ${revisions.map((r) => r.number).join(", ")})`, "to")
        : new ConflictError(`${name} has no earlier revision to roll back to`);
    }
    if (target.number === service.revision) throw new BadRequestError(`revision ${target.number} is the current revision of ${name}`, "to");
    const strategy = options.strategy === undefined ? undefined : options.strategy === "gradual" ? "rolling" : options.strategy;
    const done = await rollBack(this.store, this.events, service, options.author, `by ${options.author}`, target, strategy ? { [STRATEGY_ANNOTATION]: strategy } : {});
    this.reconciler.wake();
    return { ...done!.applied, target: target.number };
  }

  /** Field-by-field changes from revision `from` to `to`. */
  async diff(input: string, from: number, to: number): Promise<{ service: string; from: number; to: number; changes: FieldChange[] }> {
    const name = await this.resolveName(input);
    const revisions = await this.store.listRevisions(name);
    const find = (number: number, field: string) => {
      const revision = revisions.find((r) => r.number === number);
      if (!revision) throw new BadRequestError(`${name} has no revision ${number} (revisions: ${revisions.map((r) => r.number).join(", ")})`, field);
      return revision;
    };
    return { service: name, from, to, changes: diffValues(find(from, "from").descriptor, find(to, "to").descriptor) };
  }

  async history(input: string): Promise<RevisionRecord[]> {
    return this.store.listRevisions(await this.resolveName(input));
  }

  /** `name` or `namespace/name` to the stored `namespace/name`. */
  async resolveName(input: string): Promise<string> {
    const services = await this.store.listServices();
    if (input.includes("/")) {
      if (services.some((s) => s.name === input)) return input;
    } else {
      const matches = services.filter((s) => s.name.endsWith(`/${input}`));
      if (matches.length === 1) return matches[0]!.name;
      if (matches.length > 1) throw new BadRequestError(`"${input}" is ambiguous: ${matches.map((s) => s.name).join(", ")}; use namespace/name`, "service");
    }
    const suggestion = closest(input, services.flatMap((s) => [s.name, s.name.split("/")[1]!]));
    throw new NotFoundError(`no service "${input}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`);
  }

  private async change(input: string, patch: Parameters<Store["updateService"]>[1], type: string, reason: string, message: string): Promise<ServiceRecord> {
    const name = await this.resolveName(input);
    await this.store.updateService(name, patch);
    await this.events.emit({ type, service: name, replica: null, reason, message });
    this.reconciler.wake();
    return (await this.store.getService(name))!;
  }

  private async revisionOf(service: ServiceRecord): Promise<RevisionRecord> {
    const revision = await this.store.getRevision(service.name, service.revision);
    if (!revision) throw new Error(`revision ${service.revision} of ${service.name} is missing from the store`);
    return revision;
  }

  private async knownObjects(): Promise<KnownObjects> {
    const services = new Map<string, { dependencies: string[]; ports: number[] }>();
    for (const service of await this.store.listServices()) {
      if (service.deleting) continue;
      const { descriptor } = await this.revisionOf(service);
      services.set(service.name, {
        dependencies: descriptor.spec.dependencies.map((d) => `${service.namespace}/${d.name}`),
        ports: descriptor.spec.networking.ports.map((p) => p.port),
      });
    }
    const objects = await this.store.listConfigObjects();
    return {
      services,
      configMaps: new Set(objects.filter((o) => o.kind === "ConfigMap").map((o) => o.name)),
      secrets: new Set(objects.filter((o) => o.kind === "Secret").map((o) => o.name)),
    };
  }
}


