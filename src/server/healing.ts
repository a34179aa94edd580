/**
 * Self-healing (`spec.healing`): which rule answers a trigger, with what delay, and when the
 * attempts are used up. Pure, like the restart policy it builds on; the reconciler carries the
 * decisions out.
 *
 * - `liveness_failure` fires when the startup or liveness probe fails past its threshold,
 *   `readiness_timeout` when a started replica is not ready within its budget, and
 *   `crash_loop`, `oom_killed`, `exit_nonzero` when a replica exits.
 * - Every `alert` rule of a fired trigger with attempts left fires. The first corrective rule
 *   (restart, recreate, rollback) with attempts left is taken; when a trigger has corrective rules
 *   and all are used up, the replica is marked failed and left alone.
 * - An exit can fire several triggers; the first that has corrective rules decides, in the order
 *   crash_loop, then the probe trigger that caused the stop (or oom_killed), then exit_nonzero.
 * - Without a corrective rule the defaults hold: the restart policy after an exit; after a
 *   liveness failure the replica is stopped and the restart policy applies; a readiness timeout
 *   is only reported.
 * - Attempts count per rule and per replica (a recreated replica inherits them) and start again
 *   after `restart.backoff.reset_after` of running.
 */
import type { ServiceSpec } from "../spec/index.js";
import type { ExitInfo, HealingState, HealingTrigger } from "../contract/index.js";
import type { AfterExit } from "./restart-policy.js";

export type HealingRule = ServiceSpec["healing"][number];

export interface Alert {
  trigger: HealingTrigger;
  rule: number;
  attempt: number;
  maxAttempts: number;
  webhook?: string;
}

export type CorrectiveAction =
  | { type: "restart" | "recreate" | "rollback"; trigger: HealingTrigger; rule: number; attempt: number; maxAttempts: number; delayMs: number }
  | { type: "fail"; trigger: HealingTrigger; reason: string };

export interface HealingDecision {
  corrective: CorrectiveAction | null;
  alerts: Alert[];
  /** The replica's attempt counters after this decision. */
  attempts: Record<string, number>;
}

const CORRECTIVE = new Set(["restart", "recreate", "rollback"]);

export const NO_HEALING: HealingState = { attempts: {}, pending: null, readinessTimeoutFor: null };

export function decideHealing(
  fired: HealingTrigger[],
  rules: HealingRule[],
  attemptsBefore: Record<string, number>,
  backoff: ServiceSpec["restart"]["backoff"],
  alreadyAlerted: HealingTrigger[] = [],
): HealingDecision {
  const attempts = { ...attemptsBefore };
  const used = (i: number) => attempts[i] ?? 0;
  const alerts: Alert[] = [];
  for (const trigger of fired) {
    if (alreadyAlerted.includes(trigger)) continue;
    rules.forEach((rule, i) => {
      if (rule.trigger !== trigger || rule.action !== "alert" || used(i) >= rule.max_attempts) return;
      attempts[i] = used(i) + 1;
      alerts.push({ trigger, rule: i, attempt: attempts[i], maxAttempts: rule.max_attempts, webhook: rule.webhook });
    });
  }
  for (const trigger of fired) {
    const candidates = rules.map((rule, i) => ({ rule, i })).filter(({ rule }) => rule.trigger === trigger && CORRECTIVE.has(rule.action));
    if (candidates.length === 0) continue;
    const next = candidates.find(({ rule, i }) => used(i) < rule.max_attempts);
    if (!next) {
      const spent = candidates.map(({ rule }) => `${rule.max_attempts} ${rule.action}${rule.max_attempts === 1 ? "" : "s"}`).join(", ");
      return { corrective: { type: "fail", trigger, reason: `${trigger.replace("_", " ")} and every healing attempt is used up (${spent})` }, alerts, attempts };
    }
    const attempt = used(next.i) + 1;
    attempts[next.i] = attempt;
    const delayMs = healingDelay(attempt, next.rule.backoff_multiplier, backoff);
    return { corrective: { type: next.rule.action as "restart" | "recreate" | "rollback", trigger, rule: next.i, attempt, maxAttempts: next.rule.max_attempts, delayMs }, alerts, attempts };
  }
  return { corrective: null, alerts, attempts };
}

/** Attempt k waits initial × multiplier^(k−1), capped at the restart backoff's max. */
export function healingDelay(attempt: number, multiplier: number, backoff: ServiceSpec["restart"]["backoff"]): number {
  return Math.min(backoff.initial * multiplier ** (attempt - 1), backoff.max);
}

/** The triggers an exit fires, most specific first. `cause`: the probe trigger drover stopped the replica for. */
export function exitTriggers(exit: ExitInfo, afterExit: AfterExit, cause: HealingTrigger | null): HealingTrigger[] {
  const fired: HealingTrigger[] = [];
  if (afterExit.state === "crash_loop") fired.push("crash_loop");
  if (cause) fired.push(cause);
  else {
    if (exit.oomKilled) fired.push("oom_killed");
    if (!exit.unknown && (exit.code !== 0 || exit.signal !== null)) fired.push("exit_nonzero");
  }
  return fired;
}

/**
 * How long a started replica may take to become ready before `readiness_timeout` fires: the time
 * its startup and readiness probes take to give up, or, with no probes, the progress deadline.
 */
export function readinessBudget(spec: ServiceSpec): number {
  const { startup_probe, readiness_probe } = spec.health_checks;
  const giveUp = (p: NonNullable<typeof startup_probe>) => p.initial_delay + p.period * p.failure_threshold + p.timeout;
  if (!startup_probe && !readiness_probe) return spec.deployment.progress_deadline;
  return (startup_probe ? giveUp(startup_probe) : 0) + (readiness_probe ? giveUp(readiness_probe) : 0);
}

/** Whether a replica has run long enough for its attempt counters to start again. */
export function ranLongEnough(startedAt: number | null, at: number, backoff: ServiceSpec["restart"]["backoff"]): boolean {
  return startedAt !== null && at - startedAt >= backoff.reset_after;
}
