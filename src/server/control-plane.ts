/**
 * The control plane's operations, as the API exposes them: plan and apply descriptors, change a
 * service's desired state, and read what is going on. It changes desired state in the store and
 * wakes the leader's controllers through the store's change feed (on this server or another); it
 * never touches a workload itself. The controllers (reconciler with rollouts and healing,
 * sampling, autoscaling) run only while this server leads, on the fenced store.
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from "../errors.js";
import type { trustedKeys } from "../security/signatures.js";
import { closest, type DescriptorFile, type SpecIssue } from "../spec/index.js";
import type { AppliedService, EventRecord, FieldChange, MetricPoint, NodeAgent, NodeDirectory, NodeView, PlanEntry, ReplicaRecord, ReplicaView, RevisionRecord, RolloutStatusView, ServiceRecord, ServiceSummary, ServiceTraffic, TopView } from "../contract/index.js";
import { downsample, MetricHistory, RETENTION_DAYS } from "./metric-history.js";
import { recommend, type Recommendations } from "./autoscale/recommend.js";
import { STRATEGY_ANNOTATION } from "../rollout/controller.js";
import { canarySteps } from "../rollout/strategies.js";
import { rollBack, rollbackTarget } from "./rollback.js";
import type { Store } from "../store/store.js";
import type { SecretBox } from "../security/secret-box.js";
import { contentHash, diffValues } from "./apply-plan.js";
import { EventBus } from "./event-bus.js";
import { SecretRedactor } from "./secret-redactor.js";
import { ConfigObjects } from "./config-objects.js";
import { Planner } from "./planner.js";
import { Jobs } from "./jobs/jobs.js";
import { Volumes } from "./volumes.js";
import { Reconciler } from "./reconciler.js";
import { RolloutController } from "../rollout/controller.js";
import { Autoscaler, type AutoscaleStatus } from "./autoscale/autoscaler.js";
import { NodePools } from "./node-pools/node-pools.js";
import { serverLog } from "./server-log.js";
import { objectKeys, serviceStatus, unschedulableReason, waitsOf } from "./service-status.js";
import type { ServiceSpec } from "../spec/index.js";
import { nodeViews } from "./node-views.js";

export interface ApplyOptions {
  author: string;
  message: string;
  prune: boolean;
  dryRun: boolean;
  /** False for callers below admin: an apply that would change a Policy is refused. */
  mayChangePolicies?: boolean;
}

export class ControlPlane {
  readonly events: EventBus;
  private readonly redactor: SecretRedactor;
  /** Config maps and secrets: hashes, followers, `drover secret`. */
  readonly configObjects: ConfigObjects;
  /** Plans and admission of applies (also `plan` and `policy test` on their own). */
  readonly planner: Planner;
  /** While this server leads: null otherwise. */
  private reconciler: Reconciler | null = null;
  private readonly samples: MetricHistory;
  private readonly autoscaler: Autoscaler;
  /** Users' rollout commands (pause, promote, abort) are users' writes: any server takes them. */
  private readonly rolloutCommands: RolloutController;
  /** The event stream as controllers write to it (fenced by the lease term). */
  readonly controllerEvents: EventBus;
  /** Node pools: their controller while this server leads, their views always. */
  readonly nodePools: NodePools;
  /** Jobs and cron jobs: their controller while this server leads, their views always. */
  readonly jobs: Jobs;
  readonly volumes: Volumes;
  private readonly unsubscribe: Array<() => void> = [];
  private specs = new Map<string, ServiceSpec | undefined>();

  constructor(
    readonly store: Store,
    readonly agent: NodeAgent & NodeDirectory,
    secrets: SecretBox,
    /** Called before an apply that changes something is stored (a snapshot of the store). */
    private readonly beforeDeploy: () => Promise<void> = async () => undefined,
    /** The public keys signed descriptors are checked against. */
    trusted: () => ReturnType<typeof trustedKeys> = () => [],
    /** What the controllers write through: the store fenced by this server's lease term. */
    private readonly controllerStore: Store = store,
  ) {
    this.redactor = new SecretRedactor(store);
    this.events = new EventBus(store, (text) => this.redactor.redact(text));
    this.controllerEvents = this.events.writingTo(controllerStore);
    this.nodePools = new NodePools(store, controllerStore, agent, this.controllerEvents);
    this.jobs = new Jobs(store, controllerStore, agent, this.events, this.controllerEvents);
    this.volumes = new Volumes(store, agent, this.events);
    this.configObjects = new ConfigObjects(store, secrets, this.events, this.redactor, () => this.wake());
    this.planner = new Planner(store, this.configObjects, trusted);
    this.rolloutCommands = new RolloutController(store, agent, this.events);
    this.samples = new MetricHistory(controllerStore, agent, agent.metrics().intervalMs);
    this.autoscaler = new Autoscaler(controllerStore, this.controllerEvents, () => this.samples.latest(), agent.metrics().intervalMs, () => this.wake());
  }

  /** Starts answering: wake-ups and events from other servers are heard from now on. */
  async start(): Promise<void> {
    await this.redactor.refresh();
    this.unsubscribe.push(
      this.store.changes.onWake(() => {
        this.reconciler?.wake();
        this.jobs.wake();
      }),
      this.store.changes.onEvent((event) => {
        this.events.publish([event]);
        // A secret changed through another server: its values are hidden from now on here too.
        if (/^Secret/.test(event.type)) void this.redactor.refresh().catch(() => undefined);
      }),
    );
  }

  /** This server leads: re-adopt what the agents run and start the controllers. */
  async lead(): Promise<void> {
    if (this.reconciler) return;
    const reconciler = new Reconciler(this.controllerStore, this.agent, this.controllerEvents);
    this.reconciler = reconciler;
    await reconciler.start();
    this.nodePools.lead();
    this.jobs.lead();
    this.samples.start(() => this.autoscaler.evaluate().catch((error: Error) => serverLog("error", "autoscaling failed", { error: error.message })));
  }

  /** This server leads no more: the controllers stop at once (what they were doing, the next leader carries on from the store). */
  async stepDown(): Promise<void> {
    const reconciler = this.reconciler;
    this.reconciler = null;
    this.samples.stop();
    await this.nodePools.stepDown();
    await this.jobs.stepDown();
    await reconciler?.close();
  }

  get leading(): boolean {
    return this.reconciler !== null;
  }

  /** Asks the leader's reconciler for a pass, here or on another server. */
  wake(): void {
    this.store.changes.wake();
  }

  /** `replicas`: the store's replica rows when the caller has them already (a scrape). */
  async nodes(replicas?: ReplicaRecord[]): Promise<NodeView[]> {
    replicas ??= await this.store.listReplicas();
    // Revisions never change: each one's spec is read once while replicas of it exist (scrapes ask every time).
    const specs = new Map<string, ServiceSpec | undefined>();
    for (const r of replicas) {
      const key = `${r.service}@${r.revision}`;
      if (!specs.has(key)) specs.set(key, this.specs.has(key) ? this.specs.get(key) : (await this.store.getRevision(r.service, r.revision))?.descriptor.spec);
    }
    this.specs = specs;
    return nodeViews(this.agent, replicas, (r) => specs.get(`${r.service}@${r.revision}`), Date.now());
  }

  subscribe(listener: (event: EventRecord) => void): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    await this.stepDown();
    await this.agent.close();
    await this.store.close();
  }

  async apply(files: DescriptorFile[], options: ApplyOptions): Promise<{ entries: PlanEntry[]; warnings: SpecIssue[]; services: AppliedService[] }> {
    const { entries, warnings, batch } = await this.planner.plan(files, options.prune);
    if (options.mayChangePolicies === false && entries.some((e) => e.kind === "Policy" && e.action !== "unchanged")) {
      throw new ForbiddenError("changing a Policy needs an admin token");
    }
    if (options.dryRun) return { entries, warnings, services: [] };
    if (entries.some((e) => e.action !== "unchanged")) await this.beforeDeploy();
    const result = await this.store.apply({ ...batch, author: options.author, message: options.message });
    if (batch.configObjects.some((o) => o.kind === "Secret")) await this.redactor.refresh();
    this.events.publish(result.events);
    this.wake();
    return { entries, warnings, services: result.services };
  }

  async listServices(): Promise<ServiceSummary[]> {
    const services = await this.store.listServices();
    const replicas = await this.store.listReplicas();
    const readyServices = new Set(replicas.filter((r) => r.state === "ready").map((r) => r.service));
    const objects = objectKeys(await this.store.listConfigObjectHashes());
    const nodesJoining = this.agent.nodes().some((n) => n.state === "initializing");
    const summaries: ServiceSummary[] = [];
    for (const service of services) {
      const own = replicas.filter((r) => r.service === service.name);
      const { descriptor } = await this.revisionOf(service);
      const waitingFor = waitsOf(descriptor, readyServices, objects);
      const problem = this.reconciler?.preparations.problem(service.name, service.revision);
      summaries.push({
        name: service.name,
        namespace: service.namespace,
        revision: service.revision,
        desired: service.enabled && !service.deleting ? service.replicas : 0,
        ready: own.filter((r) => r.state === "ready" && r.revision === service.revision).length,
        status: serviceStatus(service, own, waitingFor, problem, nodesJoining),
        restarts: own.reduce((sum, r) => sum + r.restarts, 0),
        ports: descriptor.spec.networking.ports.map((p) => ({ name: p.name, port: p.port })),
        waitingFor,
        problem: problem?.message ?? unschedulableReason(own),
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
    this.wake();
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
      nodes: (await this.nodes()).map((n) => ({ name: n.name, state: n.state, replicas: n.replicas, utilisation: n.utilisation, watts: n.watts, source: n.energy.source })),
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
      weights: this.reconciler?.weightsOf(name) ?? null,
      history: rollouts,
    };
  }

  async rolloutCommand(input: string, action: "pause" | "resume" | "promote" | "abort" | "undo", author: string): Promise<RolloutStatusView> {
    const name = await this.resolveName(input);
    const service = (await this.store.getService(name))!;
    const { descriptor } = await this.revisionOf(service);
    const changed = await this.rolloutCommands.command(service, descriptor, action);
    if (!changed) {
      // Without a rollout under way, undo means what it means to kubectl: back to the previous revision.
      if (action === "undo") await this.rollback(name, { author });
      else throw new ConflictError(`${name} has no rollout under way (see drover rollout status ${input})`);
    }
    this.wake();
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
    this.wake();
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
    this.wake();
    return (await this.store.getService(name))!;
  }

  private async revisionOf(service: ServiceRecord): Promise<RevisionRecord> {
    const revision = await this.store.getRevision(service.name, service.revision);
    if (!revision) throw new Error(`revision ${service.revision} of ${service.name} is missing from the store`);
    return revision;
  }
}
