import { test } from "node:test";
import assert from "node:assert/strict";
import { decideHealing, exitTriggers, healingDelay, readinessBudget, type HealingRule } from "./healing.js";
import type { AfterExit } from "./restart-policy.js";
import type { ServiceSpec } from "../spec/index.js";

const backoff = { initial: 100, max: 1_000, multiplier: 2, reset_after: 60_000 };
const rule = (patch: Partial<HealingRule>): HealingRule => ({ trigger: "crash_loop", action: "restart", max_attempts: 3, backoff_multiplier: 2, ...patch });

test("the first corrective rule with attempts left is taken, with a growing delay", () => {
  const rules = [rule({ max_attempts: 2 }), rule({ action: "recreate", max_attempts: 1 })];
  let attempts = {};
  const taken: string[] = [];
  for (let i = 0; i < 4; i++) {
    const decision = decideHealing(["crash_loop"], rules, attempts, backoff);
    attempts = decision.attempts;
    const c = decision.corrective!;
    taken.push(c.type === "fail" ? "fail" : `${c.type}#${c.attempt}@${c.delayMs}`);
  }
  assert.deepEqual(taken, ["restart#1@100", "restart#2@200", "recreate#1@100", "fail"]);
});

test("when attempts are used up the replica fails with the reason; without corrective rules, defaults hold", () => {
  const exhausted = decideHealing(["exit_nonzero"], [rule({ trigger: "exit_nonzero", max_attempts: 1 })], { "0": 1 }, backoff);
  assert.equal(exhausted.corrective?.type, "fail");
  assert.match(exhausted.corrective?.type === "fail" ? exhausted.corrective.reason : "", /exit nonzero and every healing attempt is used up \(1 restart\)/);
  assert.equal(decideHealing(["exit_nonzero"], [rule({ trigger: "crash_loop" })], {}, backoff).corrective, null);
});

test("alerts fire for every fired trigger up to their own limit, beside the corrective action", () => {
  const rules = [rule({ action: "alert", trigger: "oom_killed", max_attempts: 1, webhook: "http://127.0.0.1:1/hook" }), rule({ trigger: "exit_nonzero" }), rule({ action: "alert", trigger: "exit_nonzero" })];
  const first = decideHealing(["oom_killed", "exit_nonzero"], rules, {}, backoff);
  assert.deepEqual(first.alerts.map((a) => `${a.trigger}#${a.attempt}`), ["oom_killed#1", "exit_nonzero#1"]);
  assert.equal(first.alerts[0]!.webhook, "http://127.0.0.1:1/hook");
  assert.equal(first.corrective?.type, "restart");
  const second = decideHealing(["oom_killed", "exit_nonzero"], rules, first.attempts, backoff);
  assert.deepEqual(second.alerts.map((a) => `${a.trigger}#${a.attempt}`), ["exit_nonzero#2"]);
  assert.deepEqual(decideHealing(["exit_nonzero"], rules, {}, backoff, ["exit_nonzero"]).alerts, []);
});

test("the most specific trigger with corrective rules decides", () => {
  const rules = [rule({ trigger: "exit_nonzero", action: "recreate" }), rule({ trigger: "crash_loop", action: "rollback" })];
  assert.equal(decideHealing(["crash_loop", "exit_nonzero"], rules, {}, backoff).corrective?.type, "rollback");
  assert.equal(decideHealing(["exit_nonzero"], rules, {}, backoff).corrective?.type, "recreate");
});

test("an exit fires crash_loop, oom_killed and exit_nonzero as they apply; a probe stop names its cause instead", () => {
  const looping = { state: "crash_loop" } as AfterExit;
  const exited = { state: "exited" } as AfterExit;
  assert.deepEqual(exitTriggers({ code: null, signal: "SIGKILL", oomKilled: true, at: 0 }, looping, null), ["crash_loop", "oom_killed", "exit_nonzero"]);
  assert.deepEqual(exitTriggers({ code: 0, signal: null, at: 0 }, exited, null), []);
  assert.deepEqual(exitTriggers({ code: null, signal: null, unknown: true, at: 0 }, exited, null), []);
  assert.deepEqual(exitTriggers({ code: null, signal: "SIGTERM", at: 0 }, exited, "liveness_failure"), ["liveness_failure"]);
});

test("delays and the readiness budget", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((k) => healingDelay(k, 3, backoff)), [100, 300, 900, 1_000, 1_000]);
  const probe = { initial_delay: 1_000, period: 2_000, timeout: 500, failure_threshold: 3, success_threshold: 1 };
  const spec = (health_checks: object) => ({ health_checks, deployment: { progress_deadline: 600_000 } }) as unknown as ServiceSpec;
  assert.equal(readinessBudget(spec({})), 600_000);
  assert.equal(readinessBudget(spec({ readiness_probe: probe })), 7_500);
  assert.equal(readinessBudget(spec({ startup_probe: probe, readiness_probe: probe })), 15_000);
});
