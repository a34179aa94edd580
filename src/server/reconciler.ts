/**
 * Level-triggered reconciliation: compares desired state (store) with observed state (agent),
 * plans with {@link planReplicas} and carries the plan out. Woken by agent observations and API
 * changes, and on a timer, so a missed wake-up never leaves a service stuck. Every action is safe
 * to repeat, and the loop can be killed at any point and resume from the store.
 */
import { isJobAttempt, type ConfigObjectRecord, type NodeAgent, type NodeDirectory, type PendingHealing, type ProbeReport, type ReplicaRecord, type ReplicaStatus, type RevisionRecord, type Route, type ServiceRecord } from "../contract/index.js";
import type { Store } from "../store/store.js";
import type { EventBus } from "./event-bus.js";
import { buildLaunch, imageOf, referencedObjects } from "./launch.js";
import { SerialPasses } from "./serial-passes.js";
import { claimVolumes, freeOrdinal, orderedActions, orderedByOrdinal, statefulId, volumeNode } from "./stateful.js";
import { Preparations } from "./preparations.js";
import { RolloutController } from "../rollout/controller.js";
import { Healer } from "./healer.js";
import { readinessBudget } from "./healing.js";
import { newReplicaRecord } from "./replica-record.js";
import { isUnplaced, objectKeys, waitsOf } from "./service-status.js";
import { planReplicas, type ReplicaAction } from "./replica-plan.js";
import { Scheduling, type PlacementView } from "./placement.js";
import { NodeLifecycle } from "./node-lifecycle.js";

const RESYNC_MS = 5_000;
/** A replica whose node was unreachable at its start is placed again this much later. */
const UNREACHABLE_RETRY_MS = 1_000;

export class Reconciler {
  private readonly passes = new SerialPasses(() => this.pass(), (error) => this.fail(error));
  private closed = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTimerAt = Infinity;
  private resync: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  /** Replicas this reconciler started or has heard from (any other is news from an earlier leader). */
  private readonly heard = new Set<string>();
  /** Replicas with a start or stop under way, so a second pass does not repeat it. */
  private readonly busy = new Set<string>();
  /** Revisions are immutable, so they are read once. */
  private readonly revisions = new Map<string, RevisionRecord>();
  /** Observations are applied one at a time, in the order the agent made them. */
  private observing: Promise<void> = Promise.resolve();
  private readonly routeErrors = new Set<string>();
  /** The probe verdicts last seen per replica, so an event marks each change (not each run). */
  private readonly probeStates = new Map<string, Partial<Record<ProbeReport["kind"], ProbeReport["state"]>>>();
  /** Per service: each revision's share of new requests while a rollout splits traffic. */
  private readonly weights = new Map<string, Record<string, number>>();
  private readonly healer: Healer;
  private unwatchNodes: (() => void) | undefined;
  private readonly scheduling: Scheduling;
  private readonly nodes: NodeLifecycle;
  readonly rollouts: RolloutController;
  readonly preparations: Preparations;

  constructor(
    private readonly store: Store,
    private readonly agent: NodeAgent & NodeDirectory,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
  ) {
    this.healer = new Healer(store, agent, events, now);
    this.rollouts = new RolloutController(store, agent, events, now);
    this.preparations = new Preparations(agent, events, () => this.wake(), now);
    this.scheduling = new Scheduling(agent, events, (service, number) => this.revision(service, number));
    this.nodes = new NodeLifecycle(store, agent, events);
  }

  /** Adopts what the agent already runs, then starts reconciling. */
  async start(): Promise<void> {
    const records = await this.store.listReplicas();
    for (const record of records) if (record.node) this.agent.assign(record.id, record.node);
    const statuses = await this.agent.list();
    const known = new Set(statuses.map((s) => s.id));
    for (const status of statuses) await this.observe(status, true);
    for (const record of records) {
      if (known.has(record.id) || record.nextStartAt !== null || record.state === "exited" || record.state === "failed" || record.state === "lost") continue;
      // A replica on another node is judged when that node dials in again, or by its missing heartbeats.
      if (record.node !== this.agent.node) continue;
      const exit = { code: null, signal: null, unknown: true, at: this.now() };
      await this.observe({ id: record.id, service: record.service, revision: record.revision, state: "exited", pid: null, ports: record.ports, startedAt: record.startedAt ?? 0, exit, message: "not running on its node after drover restarted", probes: [], failing: null }, true);
    }
    this.unwatch = this.agent.watch((status) => {
      this.observing = this.observing.then(() => this.observe(status, false)).catch((error) => this.fail(error));
    });
    this.unwatchNodes = this.agent.onNodeChange((node, state) => {
      this.observing = this.observing
        .then(() => this.nodes.nodeChanged(node, state))
        .then(() => this.wake())
        .catch((error) => this.fail(error));
    });
    this.resync = setInterval(() => this.wake(), RESYNC_MS).unref();
    this.wake();
  }

  /** The traffic split a rollout holds for a service now; null: every ready replica alike. */
  weightsOf(service: string): Record<string, number> | null {
    return this.weights.get(service) ?? null;
  }

  /** Asks for a pass soon; passes never overlap, and wake-ups during one coalesce into one more. */
  wake(): void {
    if (!this.closed) this.passes.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unwatch?.();
    this.unwatchNodes?.();
    clearInterval(this.resync);
    clearTimeout(this.wakeTimer);
    await this.passes.close();
    await this.observing;
  }

  private async pass(): Promise<void> {
    const services = await this.store.listServices();
    const replicas = await this.store.listReplicas();
    const byService = new Map<string, ReplicaRecord[]>();
    for (const r of replicas) byService.set(r.service, [...(byService.get(r.service) ?? []), r]);
    const hasReady = new Set(replicas.filter((r) => r.state === "ready").map((r) => r.service));
    const now = this.now();
    const work: Promise<void>[] = [];
    const draining = new Set(this.agent.nodes().filter((n) => n.draining).map((n) => n.name));
    let wakeAt = Infinity;
    // Read once per pass, and only when a replica is to be started.
    let objects: Promise<ConfigObjectRecord[]> | undefined;
    const configObjects = () => (objects ??= this.store.listConfigObjects());
    // Which config maps and secrets exist: read once per pass, only if a service refers to one.
    let existing: Set<string> | undefined;
    // Nodes and what they hold: built once per pass, only when a replica needs a node.
    let view: Promise<PlacementView> | undefined;
    const placement = () => (view ??= this.scheduling.view(replicas));
    for (const service of services) {
      const descriptor = (await this.revision(service.name, service.revision)).descriptor;
      const referencesObjects = descriptor.spec.configuration.config_maps.length + descriptor.spec.configuration.secrets.length > 0;
      existing ??= referencesObjects ? objectKeys(await this.store.listConfigObjectHashes()) : undefined;
      const waitingFor = waitsOf(descriptor, hasReady, existing ?? new Set());
      const all = byService.get(service.name) ?? [];
      // Lost replicas were replaced already; they count for nothing until their node is back or gone.
      const own = all.filter((r) => r.state !== "lost");
      if (service.deleting || !service.enabled) for (const r of all) if (r.state === "lost") work.push(this.nodes.forget(r, "its node is gone and the service no longer wants it"));
      this.preparations.keepOnly(service.name, service.revision);
      const preparation = service.enabled && !service.deleting ? this.preparations.check(service.name, service.revision, descriptor.spec.runtime, imageOf(descriptor)) : null;
      if (preparation?.retryAt !== undefined) wakeAt = Math.min(wakeAt, preparation.retryAt);
      const unprepared = preparation !== null && preparation.state !== "ready";
      // A stateful service's replicas go and come in ordinal order (its ordinal stands as a replica's age).
      const planned = descriptor.spec.stateful ? orderedByOrdinal(own) : own;
      const rollout = await this.rollouts.plan(service, descriptor, planned, preparation?.state === "failed" ? preparation.message! : null);
      if (rollout.reverted) {
        this.passes.wake();
        this.weights.set(service.name, rollout.weights!);
        continue;
      }
      if (rollout.weights) this.weights.set(service.name, rollout.weights);
      else this.weights.delete(service.name);
      if (rollout.wakeAt !== null) wakeAt = Math.min(wakeAt, rollout.wakeAt);
      const moving = new Set(own.filter((r) => draining.has(r.node)).map((r) => r.id));
      const plan = planReplicas({ ...service, waitingFor, moving }, planned, now, rollout.revisions);
      if (plan.wakeAt !== null) wakeAt = Math.min(wakeAt, plan.wakeAt);
      for (const action of descriptor.spec.stateful ? orderedActions(plan.actions, own) : plan.actions) {
        // Nothing of a revision starts before what it needs is here (its image pulled).
        if (unprepared && startsRevision(action, own, service.revision)) continue;
        work.push(this.act(service, action, own, configObjects, placement));
      }
      if (service.enabled && !service.deleting) {
        for (const r of own) if (isUnplaced(r) && !(unprepared && r.revision === service.revision)) work.push(this.placePending(service, r, configObjects, placement));
      }
      const deadline = await this.checkReadinessDeadlines(service, descriptor.spec, own, now);
      if (deadline !== null) wakeAt = Math.min(wakeAt, deadline);
    }
    await Promise.all(work);
    await this.nodes.finishDrains(draining, replicas);
    await this.syncRoutes(services);
    this.scheduleWake(wakeAt);
  }

  private async act(service: ServiceRecord, action: ReplicaAction, replicas: ReplicaRecord[], configObjects: () => Promise<ConfigObjectRecord[]>, placement: () => Promise<PlacementView>): Promise<void> {
    if ("replica" in action && this.busy.has(action.replica)) return;
    switch (action.type) {
      case "create":
        return this.create(service, action.revision, replicas, configObjects, placement);
      case "start": {
        const replica = replicas.find((r) => r.id === action.replica)!;
        return this.launch(replica, replica.state === "pending" ? "Created" : "Restarted", configObjects);
      }
      case "stop":
        return this.stop(replicas.find((r) => r.id === action.replica)!, service, action.reason);
      case "remove":
        return this.removeReplica(action.replica);
      case "removeService":
        await this.store.removeService(service.name);
        this.preparations.forget(service.name);
        await this.events.emit({ type: "ServiceDeleted", service: service.name, replica: null, reason: "Deleted", message: "every replica has stopped" });
    }
  }

  private async create(service: ServiceRecord, revision: number, replicas: ReplicaRecord[], configObjects: () => Promise<ConfigObjectRecord[]>, placement: () => Promise<PlacementView>): Promise<void> {
    const { spec } = (await this.revision(service.name, revision)).descriptor;
    const id = spec.stateful ? statefulId(service, freeOrdinal(replicas)) : undefined;
    const pinned = id !== undefined || spec.volumes?.length ? await volumeNode(this.store, service.name, spec, id ?? "") : null;
    const decision = (await placement()).place(service.name, spec, pinned ?? undefined);
    const replica = newReplicaRecord(service, revision, decision.node ?? "", this.now(), { ...(id ? { id } : {}), ...(decision.node === null ? { reason: `Unschedulable: ${decision.message}` } : {}) });
    await this.store.insertReplica(replica);
    await this.scheduling.noted(service.name, replica.id, decision);
    if (decision.node !== null) await this.launch(replica, "Created", configObjects);
  }

  /** A replica that fit nowhere before: placed and started as soon as a node fits. */
  private async placePending(service: ServiceRecord, replica: ReplicaRecord, configObjects: () => Promise<ConfigObjectRecord[]>, placement: () => Promise<PlacementView>): Promise<void> {
    if (this.busy.has(replica.id)) return;
    const { spec } = (await this.revision(service.name, replica.revision)).descriptor;
    const pinned = spec.volumes?.length ? await volumeNode(this.store, service.name, spec, replica.id) : null;
    const decision = (await placement()).place(service.name, spec, pinned ?? undefined);
    await this.scheduling.noted(service.name, replica.id, decision);
    if (decision.node === null) {
      if (replica.reason !== `Unschedulable: ${decision.message}`) await this.store.updateReplica(replica.id, { reason: `Unschedulable: ${decision.message}` });
      return;
    }
    await this.store.updateReplica(replica.id, { node: decision.node });
    await this.events.emit({ type: "ReplicaScheduled", service: service.name, replica: replica.id, reason: "Scheduled", message: `placed on node ${decision.node} (score ${decision.score})` });
    await this.launch({ ...replica, node: decision.node }, "Created", configObjects);
  }

  private async launch(replica: ReplicaRecord, reason: "Created" | "Restarted", configObjects: () => Promise<ConfigObjectRecord[]>): Promise<void> {
    this.busy.add(replica.id);
    this.heard.add(replica.id);
    try {
      const { descriptor } = await this.revision(replica.service, replica.revision);
      if (descriptor.spec.volumes?.length) {
        const elsewhere = await claimVolumes(this.store, replica, descriptor.spec, this.now());
        if (elsewhere) {
          // Its volume is on another node: placed again, there.
          await this.store.updateReplica(replica.id, { state: "pending", node: "", reason: `Unschedulable: its volume ${elsewhere.key} is on node ${elsewhere.node}` });
          return;
        }
      }
      const objects = referencedObjects(descriptor, await configObjects());
      const restarts = replica.restarts + (reason === "Restarted" ? 1 : 0);
      this.agent.assign(replica.id, replica.node);
      await this.store.updateReplica(replica.id, { state: "starting", restarts, nextStartAt: null, reason, startedAt: this.now(), readyAt: null, healing: { ...replica.healing, pending: null } });
      const status = await this.agent.start(buildLaunch(replica, descriptor, objects));
      if (status.exit?.reason === "node_unreachable") {
        // Its node went away between placement and start: placed again (elsewhere, or there once it is back).
        await this.store.updateReplica(replica.id, { state: "pending", node: "", restarts: replica.restarts, reason: `Unschedulable: ${status.message}` });
        this.scheduleWake(this.now() + UNREACHABLE_RETRY_MS);
      }
    } finally {
      this.busy.delete(replica.id);
    }
  }

  /**
   * Records the stop and returns; the stop itself (up to the grace period) goes on without
   * holding up the pass, so one slow stop never delays a restart elsewhere.
   */
  private async stop(replica: ReplicaRecord, service: ServiceRecord, reason: string): Promise<void> {
    this.busy.add(replica.id);
    try {
      await this.store.updateReplica(replica.id, { state: "terminating", reason, nextStartAt: null });
      await this.events.emit({ type: "ReplicaStopping", service: service.name, replica: replica.id, reason: "Stopping", message: reason });
    } catch (error) {
      this.busy.delete(replica.id);
      throw error;
    }
    void this.finishStop(replica).catch((error) => this.fail(error));
  }

  private async finishStop(replica: ReplicaRecord): Promise<void> {
    try {
      const { stop } = (await this.revision(replica.service, replica.revision)).descriptor.spec;
      await this.agent.stop(replica.id, stop.signal, stop.grace_period);
      await this.removeReplica(replica.id);
    } finally {
      this.busy.delete(replica.id);
      this.wake();
    }
  }

  /** Forgets a replica that has ended; safe to call twice. */
  private async removeReplica(id: string): Promise<void> {
    this.heard.delete(id);
    const status = (await this.agent.list()).find((s) => s.id === id);
    if (status && status.state !== "exited") return; // still ending; its exit will come back here
    const record = await this.store.getReplica(id);
    await this.agent.remove(id);
    if (!record) return;
    await this.store.deleteReplica(id);
    await this.events.emit({ type: "ReplicaRemoved", service: record.service, replica: id, reason: "Stopped", message: describeExit(status) });
  }

  /** Brings one observation from the agent into the store. */
  private async observe(status: ReplicaStatus, adopting: boolean): Promise<void> {
    // A job's attempt: the job controller's to watch and remove.
    if (isJobAttempt(status.id)) return;
    const record = await this.store.getReplica(status.id);
    // The first word of a replica this reconciler did not start (an agent reconnecting to a new
    // leader): it is adopted, as at start, and said so.
    if (!this.heard.has(status.id) && record && (record.state === "running" || record.state === "ready" || record.state === "unready")) adopting = true;
    this.heard.add(status.id);
    if (!record) {
      // Started by a drover that died before recording it, or left over from a deleted service.
      if (status.state === "exited") await this.agent.remove(status.id);
      else void this.agent.stop(status.id, "SIGTERM", 10_000).then(() => this.agent.remove(status.id)).catch((error) => this.fail(error));
      return;
    }
    const service = record.service;
    if (record.state === "lost") {
      // Its node is back, but the replica was replaced while it was away: one copy only.
      // A stop under way removes it once it has ended (its exit may arrive before or after the stop returns).
      if (this.busy.has(record.id)) return;
      if (status.state === "exited") return this.removeReplica(record.id);
      this.busy.add(record.id);
      await this.events.emit({ type: "ReplicaSurplus", service, replica: record.id, reason: "Replaced", message: `node ${status.node ?? record.node} is back; this replica was replaced while it was away, so it is stopped` });
      void this.agent
        .stop(record.id, "SIGTERM", 10_000)
        .then(() => this.removeReplica(record.id))
        .catch((error) => this.fail(error))
        .finally(() => this.busy.delete(record.id));
      return;
    }
    if (record.state === "terminating") {
      // A stop under way removes the replica itself once the agent has stopped it.
      if (status.state === "exited" && !this.busy.has(record.id)) await this.removeReplica(record.id);
      return;
    }
    const { descriptor } = await this.revision(service, record.revision);
    if (status.state !== "exited") await this.noteProbes(record, status.probes);
    if (status.state === "exited") {
      this.probeStates.delete(record.id);
      if (record.state === "exited" || record.state === "failed" || record.state === "crash_loop") {
        if (record.lastExit?.at === status.exit?.at) return;
      }
      const serviceRecord = await this.store.getService(service);
      if (serviceRecord) await this.healer.onExit(record, status, serviceRecord, descriptor.spec);
    } else if (status.failing && record.healing.pending === null && !this.busy.has(record.id)) {
      const serviceRecord = await this.store.getService(service);
      const pending = serviceRecord && (await this.healer.onLiveTrigger("liveness_failure", record, serviceRecord, descriptor.spec, status.failing.message));
      if (pending) this.stopForHealing(record, pending, descriptor.spec.stop);
    } else if (status.state === "running" && (record.state !== "running" || adopting)) {
      // The readiness budget runs from the agent's start of the process or container, not from the launch request.
      await this.store.updateReplica(record.id, { state: "running", pid: status.pid, ports: status.ports, reason: adopting ? "Adopted" : "Started", ...(adopting ? {} : { startedAt: status.startedAt }) });
      await this.events.emit({ type: adopting ? "ReplicaAdopted" : "ReplicaStarted", service, replica: record.id, reason: adopting ? "Adopted" : "Started", message: `pid ${status.pid}${portsText(status.ports)}` });
    } else if (status.state === "ready" && (record.state !== "ready" || adopting)) {
      await this.store.updateReplica(record.id, { state: "ready", pid: status.pid, ports: status.ports, readyAt: record.readyAt ?? this.now(), reason: adopting ? "Adopted" : "Ready" });
      await this.events.emit({ type: adopting ? "ReplicaAdopted" : "ReplicaReady", service, replica: record.id, reason: adopting ? "Adopted" : "Ready", message: adopting ? `pid ${status.pid}${portsText(status.ports)}, ready` : status.message });
    } else if (status.state === "unready" && (record.state !== "unready" || adopting)) {
      await this.store.updateReplica(record.id, { state: "unready", pid: status.pid, ports: status.ports, reason: adopting ? "Adopted" : "NotReady" });
      await this.events.emit({ type: adopting ? "ReplicaAdopted" : "ReplicaUnready", service, replica: record.id, reason: adopting ? "Adopted" : "NotReady", message: adopting ? `pid ${status.pid}${portsText(status.ports)}, not ready` : `${status.message}; taken out of the router` });
    }
    // A stop for healing that an earlier drover decided but did not see through is carried out now.
    if (adopting && status.state !== "exited" && record.healing.pending && !this.busy.has(record.id)) {
      this.stopForHealing(record, record.healing.pending, descriptor.spec.stop);
    }
    if (!adopting) this.wake();
  }

  /** An event for each change of a probe's verdict. */
  private async noteProbes(record: ReplicaRecord, probes: ProbeReport[]): Promise<void> {
    const previous = this.probeStates.get(record.id) ?? {};
    this.probeStates.set(record.id, Object.fromEntries(probes.map((p) => [p.kind, p.state])));
    for (const probe of probes) {
      const was = previous[probe.kind] ?? "pending";
      if (probe.state === "pending" || was === probe.state) continue;
      // A replica that has not been ready yet is not ready: a readiness probe failing while it starts is no news.
      if (probe.kind === "readiness" && probe.state === "failing" && was === "pending") continue;
      const passing = probe.state === "passing";
      const last = probe.last ? `${probe.last.message} in ${probe.last.latencyMs}ms` : "assumed after adoption";
      await this.events.emit({
        type: passing ? "ProbeSucceeded" : "ProbeFailed",
        service: record.service,
        replica: record.id,
        reason: `${probe.kind[0]!.toUpperCase()}${probe.kind.slice(1)}${passing ? "Passing" : "Failing"}`,
        message: `${probe.kind} probe ${passing ? "passing" : `failing after ${probe.consecutiveFailures} failures`}: ${probe.target}: ${last}`,
      });
    }
  }

  /** Stops a replica for a probe trigger; its exit comes back through observe() with the pending healing. */
  private stopForHealing(record: ReplicaRecord, pending: PendingHealing, stop: { signal: NodeJS.Signals; grace_period: number }): void {
    this.busy.add(record.id);
    void this.events
      .emit({
        type: pending.trigger === "liveness_failure" ? "ReplicaUnhealthy" : "ReplicaStopping",
        service: record.service,
        replica: record.id,
        reason: pending.trigger === "liveness_failure" ? "LivenessFailed" : "ReadinessTimeout",
        message: `${pending.reason}; stopping it (${stop.signal}, grace ${stop.grace_period}ms)`,
      })
      .then(() => this.agent.stop(record.id, stop.signal, stop.grace_period))
      .catch((error) => this.fail(error))
      .finally(() => {
        this.busy.delete(record.id);
        this.wake();
      });
  }

  /** Fires readiness_timeout for replicas not ready within their budget; returns the next deadline. */
  private async checkReadinessDeadlines(service: ServiceRecord, spec: import("../spec/index.js").ServiceSpec, replicas: ReplicaRecord[], now: number): Promise<number | null> {
    const budget = readinessBudget(spec);
    let next: number | null = null;
    for (const replica of replicas) {
      // From "running" on: while "starting" the runtime is still creating it (a container, an image), which probes do not judge.
      if (replica.state !== "running") continue;
      if (replica.startedAt === null || replica.readyAt !== null || replica.healing.readinessTimeoutFor === replica.startedAt) continue;
      if (replica.healing.pending !== null || this.busy.has(replica.id)) continue;
      const deadline = replica.startedAt + budget;
      if (deadline > now) {
        next = next === null ? deadline : Math.min(next, deadline);
        continue;
      }
      const message = `not ready ${Math.round((now - replica.startedAt) / 1000)}s after it started (budget ${Math.round(budget / 1000)}s)`;
      const pending = await this.healer.onLiveTrigger("readiness_timeout", replica, service, spec, message);
      if (pending) this.stopForHealing(replica, pending, spec.stop);
    }
    return next;
  }

  /** Service ports follow the services that should run; a port that cannot be opened is an event, once. */
  private async syncRoutes(services: ServiceRecord[]): Promise<void> {
    const routes: Route[] = [];
    for (const service of services) {
      if (!service.enabled || service.deleting) continue;
      const { spec } = (await this.revision(service.name, service.revision)).descriptor;
      for (const port of spec.networking.ports) {
        // UDP is not proxied: clients reach each replica on its own port.
        if (port.protocol === "udp") continue;
        routes.push({ service: service.name, portName: port.name, port: port.port, protocol: port.protocol as "http" | "tcp", algorithm: spec.networking.load_balancing, weights: this.weights.get(service.name) ?? null, ...(port.expose === false ? { loopbackOnly: true } : {}) });
      }
    }
    for (const status of await this.agent.setRoutes(routes)) {
      const key = `${status.service}:${status.port}`;
      if (status.error && !this.routeErrors.has(key)) {
        await this.events.emit({ type: "RouteFailed", service: status.service, replica: null, reason: "PortUnavailable", message: status.error });
      }
      if (status.error) this.routeErrors.add(key);
      else this.routeErrors.delete(key);
    }
  }

  private async revision(service: string, number: number): Promise<RevisionRecord> {
    const key = `${service}@${number}`;
    let revision = this.revisions.get(key);
    if (!revision) {
      revision = await this.store.getRevision(service, number);
      if (!revision) throw new Error(`revision ${number} of ${service} is missing from the store`);
      this.revisions.set(key, revision);
    }
    return revision;
  }

  private scheduleWake(at: number): void {
    if (!Number.isFinite(at) || at >= this.wakeTimerAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimerAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimerAt = Infinity;
      this.wake();
    }, Math.max(0, at - this.now())).unref();
  }

  private fail(error: unknown): void {
    void this.events.emit({ type: "ReconcileError", service: null, replica: null, reason: "Error", message: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
  }
}

function portsText(ports: Record<string, number>): string {
  const entries = Object.entries(ports);
  return entries.length ? `, ports ${entries.map(([name, port]) => `${name}=${port}`).join(" ")}` : "";
}

function describeExit(status: ReplicaStatus | undefined): string {
  return status?.message ?? "stopped";
}

function startsRevision(action: ReplicaAction, replicas: ReplicaRecord[], revision: number): boolean {
  if (action.type === "create") return action.revision === revision;
  if (action.type === "start") return replicas.find((r) => r.id === action.replica)?.revision === revision;
  return false;
}
