import { test } from "node:test";
import assert from "node:assert/strict";
import { afterExit, backoffDelay } from "./restart-policy.js";

const backoff = { initial: 100, max: 1000, multiplier: 2, reset_after: 60_000 };
const always = { policy: "always" as const, backoff };

test("backoff: first restart immediate, then exponential up to the maximum", () => {
  const delays = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, backoff));
  assert.deepEqual(delays, [0, 100, 200, 400, 800, 1000, 1000]);
});

test("after an exit: restart timing, crash loop and policies", () => {
  const now = 1_000_000;
  const crash = { code: 1, signal: null, at: now };
  const clean = { code: 0, signal: null, at: now };
  const cases = [
    { name: "first crash restarts now", replica: { startedAt: now - 10, consecutiveFailures: 0 }, exit: crash, restart: always, expect: { state: "exited", next: now, failures: 1 } },
    { name: "second crash waits initial", replica: { startedAt: now - 10, consecutiveFailures: 1 }, exit: crash, restart: always, expect: { state: "exited", next: now + 100, failures: 2 } },
    { name: "third crash is a crash loop", replica: { startedAt: now - 10, consecutiveFailures: 2 }, exit: crash, restart: always, expect: { state: "crash_loop", next: now + 200, failures: 3 } },
    { name: "a long healthy run resets the count", replica: { startedAt: now - 61_000, consecutiveFailures: 5 }, exit: crash, restart: always, expect: { state: "exited", next: now, failures: 1 } },
    { name: "on_failure leaves a clean exit down", replica: { startedAt: now - 10, consecutiveFailures: 0 }, exit: clean, restart: { ...always, policy: "on_failure" as const }, expect: { state: "exited", next: null, failures: 1 } },
    { name: "on_failure restarts a crash", replica: { startedAt: now - 10, consecutiveFailures: 0 }, exit: crash, restart: { ...always, policy: "on_failure" as const }, expect: { state: "exited", next: now, failures: 1 } },
    { name: "never leaves a crash failed", replica: { startedAt: now - 10, consecutiveFailures: 0 }, exit: crash, restart: { ...always, policy: "never" as const }, expect: { state: "failed", next: null, failures: 1 } },
    { name: "a kill by signal counts as a failure", replica: { startedAt: now - 10, consecutiveFailures: 0 }, exit: { code: null, signal: "SIGKILL", at: now }, restart: { ...always, policy: "on_failure" as const }, expect: { state: "exited", next: now, failures: 1 } },
  ];
  for (const c of cases) {
    const result = afterExit(c.replica, c.exit, c.restart, now);
    assert.deepEqual({ state: result.state, next: result.nextStartAt, failures: result.consecutiveFailures }, c.expect, c.name);
  }
});
