/**
 * Carries out healing decisions (see healing.ts): records them on the replica, stops, restarts,
 * recreates or rolls back, marks replicas failed when attempts are used up, and sends alerts
 * (an event, a line in drover's log, and the rule's webhook).
 */
import type { ServiceSpec } from "../spec/index.js";
import type { ExitInfo, HealingTrigger, NodeAgent, PendingHealing, ReplicaRecord, ReplicaStatus, ServiceRecord } from "../contract/index.js";
import type { Store } from "../store/store.js";
import type { EventBus } from "./event-bus.js";
import { decideHealing, exitTriggers, ranLongEnough, type Alert, type CorrectiveAction } from "./healing.js";
import { newReplicaRecord } from "./replica-record.js";
import { afterExit } from "./restart-policy.js";
import { rollBack } from "./rollback.js";
import { serverLog } from "./server-log.js";

const WEBHOOK_TIMEOUT_MS = 5_000;

export class Healer {
  constructor(
    private readonly store: Store,
    private readonly agent: NodeAgent,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A probe trigger on a live replica (`liveness_failure`, `readiness_timeout`). Returns the
   * pending healing when the replica is to be stopped (the caller stops it), null when it stays.
   */
  async onLiveTrigger(trigger: HealingTrigger, record: ReplicaRecord, service: ServiceRecord, spec: ServiceSpec, message: string): Promise<PendingHealing | null> {
    const now = this.now();
    const attemptsBefore = ranLongEnough(record.startedAt, now, spec.restart.backoff) ? {} : record.healing.attempts;
    const decision = decideHealing([trigger], spec.healing, attemptsBefore, spec.restart.backoff);
    await this.alert(decision.alerts, record, message);
    let pending: PendingHealing | null = null;
    const corrective = decision.corrective;
    if (corrective?.type === "restart" || corrective?.type === "recreate") {
      pending = { trigger, action: corrective.type, delayMs: corrective.delayMs, reason: `${message}; healing: ${corrective.type} (attempt ${corrective.attempt} of ${corrective.maxAttempts})` };
    } else if (corrective?.type === "fail") {
      pending = { trigger, action: "fail", delayMs: 0, reason: `${message}; ${corrective.reason}` };
    } else {
      if (corrective?.type === "rollback") await this.rollback(service, record, corrective, message);
      // Liveness exists to replace what is not alive: without a rule, it is stopped and the restart policy applies.
      if (trigger === "liveness_failure") pending = { trigger, action: "policy", delayMs: 0, reason: message };
    }
    const readinessTimeoutFor = trigger === "readiness_timeout" ? record.startedAt : record.healing.readinessTimeoutFor;
    await this.store.updateReplica(record.id, { healing: { attempts: decision.attempts, pending, readinessTimeoutFor } });
    if (trigger === "readiness_timeout") {
      await this.events.emit({ type: "ReplicaNotReady", service: record.service, replica: record.id, reason: "ReadinessTimeout", message: pending ? pending.reason : message });
    }
    return pending;
  }

  /** A replica has exited: restart policy and healing rules decide what comes next. */
  async onExit(record: ReplicaRecord, status: ReplicaStatus, service: ServiceRecord, spec: ServiceSpec): Promise<void> {
    const now = this.now();
    const exit: ExitInfo = status.exit ?? { code: null, signal: null, unknown: true, at: now };
    const policy = afterExit(record, exit, spec.restart, now);
    const pending = record.healing.pending;
    const ranLong = ranLongEnough(record.startedAt, exit.at, spec.restart.backoff);
    const fired = exitTriggers(exit, policy, pending?.trigger ?? null);
    // A stop for a probe trigger was decided when the probe failed; only a crash loop can override it.
    const decision = decideHealing(pending ? fired.filter((t) => t === "crash_loop") : fired, spec.healing, ranLong ? {} : record.healing.attempts, spec.restart.backoff);
    const what = describeExit(status, exit);
    await this.alert(decision.alerts, record, what);
    const plan = exitPlan(decision.corrective, pending);
    const healing = { attempts: decision.attempts, pending: null, readinessTimeoutFor: null };
    const base = { lastExit: exit, pid: null, readyAt: null, consecutiveFailures: policy.consecutiveFailures, healing };
    const cause = pending ? `stopped: ${pending.reason}` : what;
    const reason = pending ? pendingReason(pending.trigger) : policy.reason;

    if (plan.action === "fail") {
      await this.store.updateReplica(record.id, { ...base, state: "failed", nextStartAt: null, reason: "HealingGaveUp" });
      await this.events.emit({ type: "ReplicaFailed", service: record.service, replica: record.id, reason: "HealingGaveUp", message: `${cause}; ${plan.why}; left stopped until the service is restarted or changed` });
      serverLog("error", `replica ${record.id} failed for good`, { service: record.service, replica: record.id, reason: plan.why });
      return;
    }
    // A rule's delay never shortens the restart policy's backoff.
    const policyDelay = policy.nextStartAt === null ? 0 : policy.nextStartAt - now;
    if (plan.action === "recreate") {
      const at = now + Math.max(plan.delayMs, policyDelay);
      await this.agent.remove(record.id);
      await this.store.deleteReplica(record.id);
      const fresh = newReplicaRecord({ name: service.name, namespace: service.namespace }, record.revision, record.node, now, { nextStartAt: at, healing, reason: "Recreated" });
      await this.store.insertReplica(fresh);
      // A stop for a probe says its healing in `cause` already.
      const note = pending ? "" : `healing: recreate${plan.label}, `;
      await this.events.emit({ type: "ReplicaRecreated", service: record.service, replica: fresh.id, reason: "Healing", message: `${cause}; ${note}${record.id} replaced by ${fresh.id}, starting ${when(at, now)}` });
      return;
    }
    if (plan.rollback) await this.rollback(service, record, plan.rollback, what);
    // A restart rule restarts even where the policy would not; a rollback lets the policy restart meanwhile.
    const byRule = plan.action === "restart";
    const nextStartAt = byRule ? now + Math.max(plan.delayMs, policyDelay) : policy.nextStartAt;
    const state = byRule && policy.state !== "crash_loop" ? "exited" : policy.state;
    await this.store.updateReplica(record.id, { ...base, state, nextStartAt, reason });
    const next = nextStartAt === null ? "it stays down" : `restarting ${when(nextStartAt, now)}`;
    await this.events.emit({
      type: state === "crash_loop" ? "ReplicaCrashLoop" : "ReplicaExited",
      service: record.service,
      replica: record.id,
      reason,
      message: `${cause}; ${byRule && !pending ? `healing: restart${plan.label}, ` : ""}${next}`,
    });
  }

  private async rollback(service: ServiceRecord, record: ReplicaRecord, action: { trigger: HealingTrigger; attempt: number; maxAttempts: number }, why: string): Promise<void> {
    if (record.revision !== service.revision) return; // the service is already moving to another revision
    const done = await rollBack(this.store, this.events, service, "drover (healing)", `${action.trigger.replace("_", " ")} of ${record.id}`);
    if (done) {
      await this.events.emit({ type: "HealingRollback", service: service.name, replica: record.id, reason: action.trigger, message: `${why}; rolling back from revision ${service.revision} to ${done.target} as revision ${done.applied.revision}` });
      serverLog("warn", `rolling back ${service.name} to revision ${done.target}`, { service: service.name, replica: record.id, trigger: action.trigger });
    } else {
      await this.events.emit({ type: "RollbackImpossible", service: service.name, replica: record.id, reason: action.trigger, message: `${why}; no previous revision to roll back to (revision ${service.revision} is the only good one known); the replica restarts as its restart policy says` });
    }
  }

  private async alert(alerts: Alert[], record: ReplicaRecord, what: string): Promise<void> {
    for (const alert of alerts) {
      const message = `${alert.trigger.replace("_", " ")}: ${what} (alert ${alert.attempt} of ${alert.maxAttempts})`;
      await this.events.emit({ type: "HealingAlert", service: record.service, replica: record.id, reason: alert.trigger, message });
      serverLog("warn", message, { service: record.service, replica: record.id, trigger: alert.trigger });
      if (alert.webhook) void this.postWebhook(alert.webhook, record, alert, what);
    }
  }

  private async postWebhook(url: string, record: ReplicaRecord, alert: Alert, what: string): Promise<void> {
    const body = { source: "drover", service: record.service, replica: record.id, revision: record.revision, trigger: alert.trigger, attempt: alert.attempt, max_attempts: alert.maxAttempts, message: what, time: new Date(this.now()).toISOString() };
    try {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      const reason = error instanceof Error ? (error.name === "TimeoutError" ? `no answer within ${WEBHOOK_TIMEOUT_MS}ms` : (error.cause as Error | undefined)?.message ?? error.message) : String(error);
      await this.events.emit({ type: "AlertWebhookFailed", service: record.service, replica: record.id, reason: alert.trigger, message: `POST ${url}: ${reason}` }).catch(() => undefined);
    }
  }

}

interface ExitPlan {
  action: "policy" | "restart" | "recreate" | "rollback" | "fail";
  delayMs: number;
  /** " (attempt 2 of 3)" */
  label: string;
  why: string;
  rollback?: { trigger: HealingTrigger; attempt: number; maxAttempts: number };
}

/** What an exit leads to: a rule decided now (a crash loop), the one decided when the probe failed, or the policy. */
function exitPlan(corrective: CorrectiveAction | null, pending: PendingHealing | null): ExitPlan {
  if (corrective?.type === "fail") return { action: "fail", delayMs: 0, label: "", why: corrective.reason };
  if (corrective) {
    const label = ` (attempt ${corrective.attempt} of ${corrective.maxAttempts})`;
    return { action: corrective.type, delayMs: corrective.delayMs, label, why: "", rollback: corrective.type === "rollback" ? corrective : undefined };
  }
  if (pending && pending.action !== "policy") return { action: pending.action, delayMs: pending.delayMs, label: "", why: pending.reason };
  return { action: "policy", delayMs: 0, label: "", why: "" };
}

function pendingReason(trigger: HealingTrigger): string {
  return trigger === "liveness_failure" ? "LivenessFailed" : "ReadinessTimeout";
}

function when(at: number, now: number): string {
  return at <= now ? "now" : `in ${at - now}ms`;
}

function describeExit(status: ReplicaStatus, exit: ExitInfo): string {
  if (exit.oomKilled) return `OOM-killed (${exit.signal ?? `code ${exit.code}`})`;
  return status.message;
}
