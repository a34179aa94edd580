import { test } from "node:test";
import assert from "node:assert/strict";
import type { JobAttempt, JobRun } from "../../contract/index.js";
import type { JobDescriptor } from "../../spec/index.js";
import { planRun } from "./run-plan.js";

const spec = (patch: Partial<JobDescriptor["spec"]> = {}) =>
  ({ parallelism: 2, completions: 3, backoff_limit: 2, backoff: { initial: 1_000, max: 10_000, multiplier: 2 }, ...patch }) as JobDescriptor["spec"];
const attempt = (state: JobAttempt["state"], finishedAt: number | null = null): JobAttempt => ({ id: "a", node: "n", startedAt: 0, finishedAt, state, exit: null, message: "", log: [] });
const run = (attempts: JobAttempt[], startedAt = 0): JobRun => ({ job: "d/j", number: 1, version: 1, trigger: "apply", scheduledAt: null, createdAt: 0, startedAt, finishedAt: null, state: "running", reason: "", succeeded: 0, failed: 0, covers: 0, nextAttemptAt: null, attempts });

test("attempts start up to parallelism and never beyond the completions still needed", () => {
  assert.equal(planRun(run([]), spec(), 0).start, 2);
  assert.equal(planRun(run([attempt("running")]), spec(), 0).start, 1);
  assert.equal(planRun(run([attempt("succeeded", 1), attempt("succeeded", 1), attempt("running")]), spec(), 5).start, 0);
  assert.equal(planRun(run([attempt("succeeded", 1), attempt("succeeded", 1)]), spec(), 5).start, 1);
});

test("a failure holds the next start for its backoff, doubling per failure up to the max", () => {
  const once = run([attempt("failed", 100)]);
  assert.deepEqual(planRun(once, spec(), 500), { start: 0, finish: null, nextAttemptAt: 1_100 });
  assert.equal(planRun(once, spec(), 1_100).start, 2);
  const twice = run([attempt("failed", 100), attempt("failed", 300)]);
  assert.equal(planRun(twice, spec(), 1_000).nextAttemptAt, 2_300);
  const many = run(Array.from({ length: 8 }, () => attempt("failed", 0)));
  assert.equal(planRun(many, spec({ backoff_limit: 20 }), 0).nextAttemptAt, 10_000);
});

test("the run ends: all completions in, past the backoff limit, or past its deadline", () => {
  assert.deepEqual(planRun(run([attempt("succeeded", 1), attempt("failed", 1), attempt("succeeded", 2), attempt("succeeded", 3)]), spec(), 5).finish, { state: "succeeded", reason: "3 of 3 completions, 1 failed attempt retried" });
  assert.deepEqual(planRun(run([attempt("failed", 1), attempt("failed", 2), attempt("failed", 3)]), spec(), 5).finish, { state: "failed", reason: "BackoffLimitExceeded: 3 failed attempts (backoff_limit 2)" });
  assert.equal(planRun(run([attempt("running")], 1_000), spec({ active_deadline: 5_000 }), 5_999).finish, null);
  assert.match(planRun(run([attempt("running")], 1_000), spec({ active_deadline: 5_000 }), 6_000).finish!.reason, /^DeadlineExceeded: still running after active_deadline 5s/);
});
