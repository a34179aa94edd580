/**
 * Runs rollouts: notices a service's revision change, starts a rollout with the revision's
 * strategy, lets the strategy decide each pass, judges the gate, the canary analysis and the
 * progress deadline, rolls back (auto_rollback) by pointing the service at its previous revision
 * again, and records each rollout's outcome and metrics. All state is in the store, so a drover
 * killed in the middle resumes (or finishes the rollback) where it was.
 */
import type { ServiceDescriptor } from "../spec/index.js";
import type { NodeAgent, ReplicaRecord, RevisionTraffic, RolloutRecord, RolloutState, RolloutStrategy, ServiceRecord, TrafficMark } from "../contract/index.js";
import type { Store } from "../store/store.js";
import type { EventBus } from "../server/event-bus.js";
import type { ReplicaAction } from "../server/replica-plan.js";
import { analyseCanary, markOf, window } from "./analysis.js";
import { canarySteps, decideStrategy, failedGate } from "./strategies.js";

/** Set on a revision (e.g. by `drover rollback --strategy`) to roll it out differently from its spec. */
export const STRATEGY_ANNOTATION = "drover.dev/rollout-strategy";

const ACTIVE: RolloutState[] = ["progressing", "paused", "rolling_back", "failed"];

export interface RolloutPlan {
  /** Replaces the default replacement of old replicas; null: the default applies. */
  revisions: ((current: ReplicaRecord[], old: ReplicaRecord[]) => ReplicaAction[]) | null;
  weights: Record<string, number> | null;
  wakeAt: number | null;
  /** The service was pointed back at its previous revision: plan it again on the next pass. */
  reverted: boolean;
}

const DEFAULT: RolloutPlan = { revisions: null, weights: null, wakeAt: null, reverted: false };

export class RolloutController {
  /** The progress marker last seen per rollout: a change is progress (for progress_deadline). */
  private readonly progressKeys = new Map<number, string>();

  constructor(
    private readonly store: Store,
    private readonly agent: NodeAgent,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  /** `unavailable`: why the service's revision cannot start at all (its image cannot be had), if so. */
  async plan(service: ServiceRecord, descriptor: ServiceDescriptor, replicas: ReplicaRecord[], unavailable: string | null = null): Promise<RolloutPlan> {
    const now = this.now();
    const active = replicas.filter((r) => r.state !== "terminating");
    const current = active.filter((r) => r.revision === service.revision);
    const old = active.filter((r) => r.revision !== service.revision);
    const [latest] = await this.store.listRollouts(service.name, 1);
    let rollout = latest && ACTIVE.includes(latest.state) ? latest : undefined;

    if (!service.enabled || service.deleting) {
      if (rollout) await this.finish(rollout, "failed", `service ${service.deleting ? "deleted" : "stopped"} during the rollout`);
      return DEFAULT;
    }
    if (rollout?.state === "rolling_back") return this.rollingBack(rollout, service, current, old, now);
    if (rollout && rollout.toRevision !== service.revision) {
      // A newer apply during a rollout: a new rollout from the same stable revision.
      await this.finish(rollout, "failed", `superseded by revision ${service.revision}`);
      if (old.length > 0) return this.planActive(await this.begin(service, descriptor, old, rollout.fromRevision), service, descriptor, current, old, now);
      return DEFAULT;
    }
    if (!rollout) {
      // Only a change of revision with replicas of another still running is a rollout (not a first start, not leftovers of a rollback).
      if (old.length === 0) return DEFAULT;
      if (latest && latest.toRevision === service.revision && latest.state === "succeeded") return DEFAULT;
      if (latest && latest.state === "rolled_back" && latest.fromRevision === service.revision) return DEFAULT;
      rollout = await this.begin(service, descriptor, old, undefined);
    }
    if (unavailable && rollout.state !== "failed") return this.fail(rollout, service, unavailable, descriptor.spec.deployment.auto_rollback);
    return this.planActive(rollout, service, descriptor, current, old, now);
  }

  /** `drover rollout pause|resume|promote|abort|undo`: changes the active rollout; returns it. */
  async command(service: ServiceRecord, descriptor: ServiceDescriptor, action: "pause" | "resume" | "promote" | "abort" | "undo"): Promise<RolloutRecord | null> {
    const [latest] = await this.store.listRollouts(service.name, 1);
    const rollout = latest && ACTIVE.includes(latest.state) && latest.state !== "rolling_back" ? latest : undefined;
    if (!rollout) return null;
    const now = this.now();
    switch (action) {
      case "pause":
        await this.store.updateRollout(rollout.id, { state: "paused" });
        await this.emit(service.name, "RolloutPaused", "Paused", `rollout to revision ${rollout.toRevision} paused`);
        break;
      case "resume":
        await this.store.updateRollout(rollout.id, { state: "progressing", progressAt: now });
        await this.emit(service.name, "RolloutResumed", "Resumed", `rollout to revision ${rollout.toRevision} resumed`);
        break;
      case "promote": {
        const patch: Partial<RolloutRecord> = rollout.strategy === "canary" ? { step: canarySteps(descriptor.spec.deployment).length, stepStartedAt: null } : { stepStartedAt: rollout.stepStartedAt ?? now };
        await this.store.updateRollout(rollout.id, { ...patch, state: "progressing", progressAt: now });
        await this.emit(service.name, "RolloutPromoted", "Promoted", `rollout to revision ${rollout.toRevision} promoted by the user`);
        break;
      }
      case "abort":
      case "undo":
        await this.fail(rollout, service, action === "undo" ? "undone by the user" : "aborted by the user", true);
        break;
    }
    return (await this.store.listRollouts(service.name, 1))[0] ?? null;
  }

  private async begin(service: ServiceRecord, descriptor: ServiceDescriptor, old: ReplicaRecord[], from: number | undefined): Promise<RolloutRecord> {
    const now = this.now();
    const fromRevision = from ?? stableRevision(old);
    const strategy = (descriptor.metadata.annotations[STRATEGY_ANNOTATION] as RolloutStrategy | undefined) ?? descriptor.spec.deployment.strategy;
    const marks = this.marks(service.name);
    const rollout = await this.store.insertRollout({
      service: service.name, fromRevision, toRevision: service.revision, strategy, state: "progressing", step: 0, stepStartedAt: null,
      progressAt: now, startedAt: now, finishedAt: null, failedAt: null, reason: "", marks: { start: marks, step: marks }, analysis: null, metrics: null,
    });
    await this.emit(service.name, "RolloutStarted", "Started", `${strategy.replace("_", "-")} rollout from revision ${fromRevision} to ${service.revision}`);
    return rollout;
  }

  private async planActive(rollout: RolloutRecord, service: ServiceRecord, descriptor: ServiceDescriptor, current: ReplicaRecord[], old: ReplicaRecord[], now: number): Promise<RolloutPlan> {
    const deployment = descriptor.spec.deployment;
    const decision = decideStrategy({ desired: service.replicas, deployment, rollout, current, old, now });
    // Frozen: a failed rollout without auto_rollback, or a paused one, changes nothing until the user acts.
    if (rollout.state === "failed" || rollout.state === "paused") return { revisions: () => [], weights: decision.weights, wakeAt: null, reverted: false };

    const gate = failedGate(current);
    if (gate) return this.fail(rollout, service, `health gate failed: ${gate}`, deployment.auto_rollback);
    // Waiting on purpose (a canary step's pause, a blue-green scale-down delay) is not a lack of progress.
    const steps = canarySteps(deployment);
    const pausing = rollout.stepStartedAt !== null && (rollout.strategy === "canary" ? rollout.step < steps.length && now < rollout.stepStartedAt + steps[rollout.step]!.pause : true);
    if (!pausing && now - rollout.progressAt > deployment.progress_deadline) {
      return this.fail(rollout, service, `no progress for ${Math.round(deployment.progress_deadline / 1000)}s (progress_deadline)`, deployment.auto_rollback);
    }

    const patch: Partial<RolloutRecord> = {};
    const known = this.progressKeys.get(rollout.id);
    if ((known !== undefined && known !== decision.progress) || pausing) patch.progressAt = now;
    this.progressKeys.set(rollout.id, decision.progress);
    let wakeAt = decision.wakeAt;

    if (rollout.strategy === "blue_green" || rollout.strategy === "immediate") {
      if (decision.stepReady && rollout.stepStartedAt === null) {
        patch.stepStartedAt = now;
        wakeAt = now + (rollout.strategy === "immediate" ? 0 : deployment.blue_green.scale_down_delay);
        await this.emit(service.name, "RolloutSwitched", "Switched", `all ${service.replicas} replicas of revision ${rollout.toRevision} are ready: every new request goes to them; revision ${rollout.fromRevision} stays for ${Math.round(deployment.blue_green.scale_down_delay / 1000)}s`);
      }
    } else if (rollout.strategy === "canary") {
      if (rollout.step < steps.length && decision.stepReady) {
        const traffic = this.traffic(service.name);
        if (rollout.stepStartedAt === null) {
          patch.stepStartedAt = now;
          patch.marks = { ...rollout.marks, step: this.marksOf(traffic) };
          wakeAt = now + Math.min(steps[rollout.step]!.pause, 500);
          await this.emit(service.name, "RolloutStep", "CanaryStep", `step ${rollout.step + 1} of ${steps.length}: ${steps[rollout.step]!.weight}% of requests to revision ${rollout.toRevision}`);
        } else {
          const stepMarks = rollout.marks.step;
          const canaryWindow = window(markOf(traffic.get(rollout.toRevision)), stepMarks[rollout.toRevision]);
          const stableWindow = window(markOf(traffic.get(rollout.fromRevision)), stepMarks[rollout.fromRevision]);
          const analysis = analyseCanary(canaryWindow, stableWindow, deployment.canary.analysis, now);
          patch.analysis = analysis;
          if (analysis.verdict === "fail") return this.fail({ ...rollout, analysis }, service, `canary analysis failed: ${analysis.reason}`, deployment.auto_rollback);
          const pauseEnds = rollout.stepStartedAt + steps[rollout.step]!.pause;
          if (now >= pauseEnds && analysis.verdict === "pass") {
            patch.step = rollout.step + 1;
            patch.stepStartedAt = null;
            patch.progressAt = now;
            // The next step's replicas are planned on the next pass: make it now.
            wakeAt = now;
          } else {
            // Analysis runs every pass while the step lasts; wake for the end of the pause and to look again.
            wakeAt = Math.min(wakeAt ?? Infinity, now >= pauseEnds ? now + 500 : Math.min(pauseEnds, now + 500));
          }
        }
      }
    }
    if (Object.keys(patch).length) await this.store.updateRollout(rollout.id, patch);
    if (decision.complete) {
      await this.finish({ ...rollout, ...patch }, "succeeded", `every replica runs revision ${rollout.toRevision}`);
      return { revisions: () => decision.actions, weights: null, wakeAt: null, reverted: false };
    }
    return { revisions: () => decision.actions, weights: decision.weights, wakeAt, reverted: false };
  }

  /** After a revert: the previous revision takes all traffic at once; the rollout ends when it serves everything again. */
  private async rollingBack(rollout: RolloutRecord, service: ServiceRecord, current: ReplicaRecord[], old: ReplicaRecord[], now: number): Promise<RolloutPlan> {
    const readyCurrent = current.filter((r) => r.state === "ready").length;
    if (service.revision !== rollout.fromRevision) {
      await this.finish(rollout, "rolled_back", `${rollout.reason}; superseded by revision ${service.revision}`);
      return DEFAULT;
    }
    if (old.length === 0 && readyCurrent >= service.replicas) {
      await this.finish(rollout, "rolled_back", rollout.reason, now);
      return DEFAULT;
    }
    return { revisions: null, weights: readyCurrent > 0 ? { [rollout.fromRevision]: 100 } : null, wakeAt: null, reverted: false };
  }

  private async fail(rollout: RolloutRecord, service: ServiceRecord, reason: string, rollBack: boolean): Promise<RolloutPlan> {
    const now = this.now();
    await this.emit(service.name, "RolloutFailed", "Failed", `rollout to revision ${rollout.toRevision}: ${reason}`);
    if (!rollBack) {
      await this.store.updateRollout(rollout.id, { state: "failed", reason, failedAt: now, analysis: rollout.analysis });
      return { revisions: () => [], weights: null, wakeAt: null, reverted: false };
    }
    await this.store.updateRollout(rollout.id, { state: "rolling_back", reason, failedAt: now, analysis: rollout.analysis });
    await this.store.updateService(service.name, { revision: rollout.fromRevision });
    await this.emit(service.name, "RolloutRollingBack", "RollingBack", `back to revision ${rollout.fromRevision}: it takes every new request now`);
    return { revisions: () => [], weights: { [rollout.fromRevision]: 100 }, wakeAt: null, reverted: true };
  }

  private async finish(rollout: RolloutRecord, state: RolloutState, reason: string, rolledBackAt?: number): Promise<void> {
    const now = this.now();
    const totals = (marks: Record<string, TrafficMark>) => Object.values(marks).reduce((sum, m) => ({ requests: sum.requests + m.requests, errors: sum.errors + m.errors }), { requests: 0, errors: 0 });
    const end = totals(this.marks(rollout.service));
    const start = totals(rollout.marks.start);
    // Counters restart with drover: a rollout that spanned a restart counts from the restart.
    const requests = end.requests >= start.requests ? end.requests - start.requests : end.requests;
    const errors = end.requests >= start.requests ? end.errors - start.errors : end.errors;
    const metrics = {
      durationMs: now - rollout.startedAt,
      outcome: state,
      rollbackDurationMs: rolledBackAt !== undefined && rollout.failedAt !== null ? rolledBackAt - rollout.failedAt : null,
      requests,
      errors,
      availability: requests ? 1 - errors / requests : null,
    };
    await this.store.updateRollout(rollout.id, { state, reason, finishedAt: now, metrics });
    this.progressKeys.delete(rollout.id);
    const type = state === "succeeded" ? "RolloutSucceeded" : state === "rolled_back" ? "RolloutRolledBack" : "RolloutEnded";
    const availability = metrics.availability === null ? "no requests" : `${requests} requests, ${errors} errors, availability ${(metrics.availability * 100).toFixed(3)}%`;
    const rollbackText = metrics.rollbackDurationMs !== null ? `, rolled back in ${metrics.rollbackDurationMs}ms` : "";
    // Stamped with the moment it ended, not when the event reached the store (a round trip later on a networked store).
    await this.emit(rollout.service, type, state, `revision ${rollout.toRevision}: ${reason} (${Math.round(metrics.durationMs / 100) / 10}s, ${availability}${rollbackText})`, rolledBackAt ?? now);
  }

  private traffic(service: string): Map<number, RevisionTraffic> {
    const [traffic] = this.agent.traffic(service);
    return new Map((traffic?.revisions ?? []).map((r) => [r.revision, r]));
  }

  private marks(service: string): Record<string, TrafficMark> {
    return this.marksOf(this.traffic(service));
  }

  private marksOf(traffic: Map<number, RevisionTraffic>): Record<string, TrafficMark> {
    return Object.fromEntries([...traffic].map(([revision, t]) => [String(revision), markOf(t)]));
  }

  private async emit(service: string, type: string, reason: string, message: string, time?: number): Promise<void> {
    await this.events.emit({ type, service, replica: null, reason, message, ...(time === undefined ? {} : { time }) });
  }
}

/** The revision most ready old replicas run (ties: the newest); the one a rollout starts from. */
function stableRevision(old: ReplicaRecord[]): number {
  const counts = new Map<number, number>();
  for (const r of old) counts.set(r.revision, (counts.get(r.revision) ?? 0) + (r.state === "ready" ? 2 : 1));
  return [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]![0];
}
