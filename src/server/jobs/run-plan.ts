/**
 * What a run does next, from its attempts as observed: finish (all completions in, the backoff
 * limit passed, the deadline passed), or start attempts up to `parallelism` — after a failure only
 * once its backoff has passed. Pure, so the rules are tested without processes.
 */
import type { JobRun } from "../../contract/index.js";
import type { JobDescriptor } from "../../spec/index.js";
import { formatDuration } from "../../spec/index.js";

export interface RunPlan {
  /** Attempts to start now. */
  start: number;
  /** The run is over: attempts still running are stopped. */
  finish: { state: "succeeded" | "failed"; reason: string } | null;
  /** When to look again for a start held back by the backoff. */
  nextAttemptAt: number | null;
}

export function planRun(run: JobRun, spec: JobDescriptor["spec"], now: number): RunPlan {
  const running = run.attempts.filter((a) => a.state === "running").length;
  const succeeded = run.attempts.filter((a) => a.state === "succeeded").length;
  const failed = run.attempts.filter((a) => a.state === "failed").length;
  if (succeeded >= spec.completions) return { start: 0, finish: { state: "succeeded", reason: `${succeeded} of ${spec.completions} completions${failed ? `, ${failed} failed attempt${failed === 1 ? "" : "s"} retried` : ""}` }, nextAttemptAt: null };
  if (failed > spec.backoff_limit) return { start: 0, finish: { state: "failed", reason: `BackoffLimitExceeded: ${failed} failed attempts (backoff_limit ${spec.backoff_limit})` }, nextAttemptAt: null };
  if (spec.active_deadline !== undefined && run.startedAt !== null && now - run.startedAt >= spec.active_deadline) {
    return { start: 0, finish: { state: "failed", reason: `DeadlineExceeded: still running after active_deadline ${formatDuration(spec.active_deadline)}` }, nextAttemptAt: null };
  }
  const wanted = Math.max(0, Math.min(spec.completions - succeeded - running, spec.parallelism - running));
  if (wanted === 0 || failed === 0) return { start: wanted, finish: null, nextAttemptAt: null };
  const lastFailure = Math.max(...run.attempts.filter((a) => a.state === "failed").map((a) => a.finishedAt ?? 0));
  const delay = Math.min(spec.backoff.initial * spec.backoff.multiplier ** (failed - 1), spec.backoff.max);
  if (now < lastFailure + delay) return { start: 0, finish: null, nextAttemptAt: lastFailure + delay };
  return { start: wanted, finish: null, nextAttemptAt: null };
}
