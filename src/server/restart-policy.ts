/**
 * What happens after a replica exits: restart now, restart after a backoff, or stay down.
 * Pure, so every case is a row in a table test.
 */
import type { ServiceSpec } from "../spec/index.js";
import type { ExitInfo, ReplicaRecord, ReplicaState } from "../contract/index.js";

/** Exits in a row (each before reset_after of healthy running) that make a crash loop. */
export const CRASH_LOOP_AFTER = 3;

export interface AfterExit {
  state: ReplicaState;
  consecutiveFailures: number;
  /** null: the replica stays down. */
  nextStartAt: number | null;
  reason: string;
}

export function afterExit(
  replica: Pick<ReplicaRecord, "startedAt" | "consecutiveFailures">,
  exit: ExitInfo,
  restart: ServiceSpec["restart"],
  now: number,
): AfterExit {
  const clean = !exit.unknown && exit.code === 0 && !exit.signal;
  const ranHealthy = replica.startedAt !== null && exit.at - replica.startedAt >= restart.backoff.reset_after;
  const earlier = ranHealthy ? 0 : replica.consecutiveFailures;
  const restarts = restart.policy === "always" || (restart.policy === "on_failure" && !clean);
  if (!restarts) {
    return { state: clean ? "exited" : "failed", consecutiveFailures: earlier + 1, nextStartAt: null, reason: clean ? "Completed" : "Failed" };
  }
  const delay = backoffDelay(earlier, restart.backoff);
  const failures = earlier + 1;
  const crashLooping = failures >= CRASH_LOOP_AFTER;
  return {
    state: crashLooping ? "crash_loop" : "exited",
    consecutiveFailures: failures,
    nextStartAt: now + delay,
    reason: crashLooping ? "CrashLoopBackOff" : clean ? "Completed" : "Error",
  };
}

/** The first restart is immediate; then initial × multiplier^(n-1), capped at max. */
export function backoffDelay(previousFailures: number, backoff: ServiceSpec["restart"]["backoff"]): number {
  if (previousFailures === 0) return 0;
  return Math.min(backoff.initial * backoff.multiplier ** (previousFailures - 1), backoff.max);
}
