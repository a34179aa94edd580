/**
 * Jobs and cron jobs with real processes: completions and parallelism with a failing attempt
 * retried, a Forbid cron job whose runs outlast their slots, one catch-up run after drover was
 * down for several slots, manual runs, removal, logs, events and /metrics.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { EventRecord, JobRun, JobView } from "../src/contract/index.js";
import { Drover, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover?.cleanup());

const runs = (name: string) => drover.json<JobRun[]>(["job", "runs", name, "-n", "100"]);
const jobs = () => drover.json<JobView[]>(["job", "ls"]);
const events = async (type: string, job: string) => (await drover.json<EventRecord[]>(["events", "-s", job, "-n", "1000"])).filter((e) => e.type === type);

/** The most attempts that ran at once. */
function mostAtOnce(intervals: Array<{ startedAt: number; finishedAt: number | null }>): number {
  return Math.max(...intervals.map((a) => intervals.filter((b) => b.startedAt <= a.startedAt && (b.finishedAt ?? Infinity) > a.startedAt).length));
}

test("a Job of 3 completions, 2 at a time: the failing attempt is retried after its backoff; output, events and metrics kept", async () => {
  const file = drover.write("count.yaml", `apiVersion: drover/v1
kind: Job
metadata: {name: count, namespace: jobs}
spec:
  command: [sh, -c, 'echo "attempt $DROVER_JOB_ATTEMPT of run $DROVER_JOB_RUN"; sleep 1; [ "$DROVER_JOB_ATTEMPT" != 2 ] || { echo failing >&2; exit 3; }']
  completions: 3
  parallelism: 2
  backoff: {initial: 500ms}
`);
  assert.equal((await drover.run(["apply", "-f", file])).code, 0);
  const [run] = await waitFor("the run to finish", async () => {
    const list = await runs("jobs/count");
    return list[0] && list[0].state !== "running" && list[0].state !== "pending" ? list : null;
  }, 30_000, 200);
  assert.equal(run!.state, "succeeded", JSON.stringify(run));
  assert.equal(run!.trigger, "apply");
  assert.deepEqual([run!.succeeded, run!.failed, run!.attempts.length], [3, 1, 4]);
  assert.equal(run!.reason, "3 of 3 completions, 1 failed attempt retried");
  const failed = run!.attempts.find((a) => a.state === "failed")!;
  assert.deepEqual(failed.exit, { code: 3, signal: null });
  assert.ok(mostAtOnce(run!.attempts) <= 2, `at most 2 at once: ${JSON.stringify(run!.attempts.map((a) => [a.startedAt, a.finishedAt]))}`);
  // The retry waited for the backoff after the failure.
  const retry = run!.attempts.find((a) => a.startedAt >= failed.finishedAt!)!;
  assert.ok(retry.startedAt - failed.finishedAt! >= 450, `retried ${retry.startedAt - failed.finishedAt!} ms after the failure`);

  const logs = await drover.run(["job", "logs", "jobs/count"]);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /── job\.jobs\.count\.1-2 \(failed: exited 3\)\nattempt 2 of run 1\nfailing/);
  assert.match(logs.stdout, /attempt 4 of run 1/);
  assert.equal((await events("JobAttemptFailed", "jobs/count")).length, 1);
  assert.match((await events("JobRunSucceeded", "jobs/count"))[0]!.message, /^run 1 of jobs\/count succeeded in \d+\.\ds: 3 of 3 completions/);

  // The same Job applied again does not run again; a manual run does.
  assert.equal((await drover.run(["apply", "-f", file])).code, 0);
  const manual = await drover.run(["job", "run", "count"]);
  assert.equal(manual.code, 0, manual.stderr);
  assert.match(manual.stdout, /^jobs\/count: run 2 started/);
  await waitFor("the manual run to finish", async () => ["succeeded", "failed"].includes((await runs("jobs/count"))[0]!.state), 30_000, 200);
  assert.deepEqual((await runs("jobs/count")).map((r) => r.trigger), ["manual", "apply"]);

  const metrics = await (await fetch(`${drover.url}/metrics`, { headers: drover.authorization() })).text();
  assert.match(metrics, /drover_job_last_success_timestamp_seconds\{namespace="jobs",job="count",kind="Job"\} \d+(\.\d+)?/);
  assert.match(metrics, /drover_job_runs\{namespace="jobs",job="count",kind="Job",result="succeeded"\} 2\n/);
  const view = (await jobs()).find((j) => j.name === "jobs/count")!;
  assert.ok(view.status.lastSuccessAt !== null && view.active === 0);
});

test("a cron job every 2s with Forbid and 5s runs: runs never overlap, the slots in between are skipped and counted; job rm stops it", async () => {
  const file = drover.write("slow.yaml", `apiVersion: drover/v1
kind: CronJob
metadata: {name: slow, namespace: jobs}
spec:
  schedule: "*/2 * * * * *"
  concurrency_policy: Forbid
  successful_history: 10
  job:
    command: [sh, -c, 'echo slow run $DROVER_JOB_RUN; sleep 5']
    stop: {grace_period: 1s}
`);
  assert.equal((await drover.run(["apply", "-f", file])).code, 0);
  const finished = await waitFor("two runs finished", async () => {
    const list = (await runs("jobs/slow")).filter((r) => r.state === "succeeded");
    return list.length >= 2 ? list : null;
  }, 30_000, 250);
  const ordered = [...finished].sort((a, b) => a.number - b.number);
  for (let i = 1; i < ordered.length; i++) assert.ok(ordered[i]!.startedAt! >= ordered[i - 1]!.finishedAt!, `run ${ordered[i]!.number} started before run ${ordered[i - 1]!.number} ended`);
  const view = (await jobs()).find((j) => j.name === "jobs/slow")!;
  assert.ok(view.status.skipped >= 2, `skipped ${view.status.skipped}`);
  assert.equal(view.concurrencyPolicy, "Forbid");
  const skips = await events("CronJobSlotSkipped", "jobs/slow");
  assert.ok(skips.length >= 2 && /is still going: the slot at .* is skipped \(concurrency_policy Forbid\)/.test(skips[0]!.message));
  const metrics = await (await fetch(`${drover.url}/metrics`, { headers: drover.authorization() })).text();
  assert.match(metrics, /drover_cronjob_skipped_slots_total\{namespace="jobs",job="slow",kind="CronJob"\} [1-9]\d*/);

  assert.equal((await drover.run(["job", "rm", "jobs/slow"])).code, 0);
  await waitFor("the cron job gone", async () => !(await jobs()).some((j) => j.name === "jobs/slow"), 15_000, 200);
  const listed = await drover.run(["job", "runs", "jobs/slow"]);
  assert.equal(listed.code, 2, "a name that is not there is the user's mistake");
  assert.match(listed.stderr, /no job or cron job named "jobs\/slow"/);
});

test("drover down for several slots, then up: exactly one catch-up run stands for them, then the schedule goes on", async () => {
  const file = drover.write("tick.yaml", `apiVersion: drover/v1
kind: CronJob
metadata: {name: tick, namespace: jobs}
spec:
  schedule: "*/2 * * * * *"
  successful_history: 20
  job:
    command: [sh, -c, 'echo tick']
`);
  assert.equal((await drover.run(["apply", "-f", file])).code, 0);
  await waitFor("a first run", async () => (await runs("jobs/tick")).some((r) => r.state === "succeeded"), 15_000, 200);
  await drover.killServer();
  const downAt = Date.now();
  // Four slots pass while no server runs.
  await waitFor("8s of downtime", () => Date.now() - downAt >= 8_000, 10_000, 100);
  await drover.startServer();
  const catchUp = await waitFor("the catch-up run", async () => (await runs("jobs/tick")).find((r) => r.trigger === "catch_up"), 15_000, 200);
  assert.ok(catchUp.covers >= 3, `it stands for ${catchUp.covers} missed slots`);
  // The next regular slot runs as usual.
  await waitFor("a scheduled run after the catch-up", async () => (await runs("jobs/tick")).some((r) => r.trigger === "schedule" && r.number > catchUp.number), 15_000, 200);
  const all = await runs("jobs/tick");
  // The catch-up run stands for the slots up to the latest missed one, its own. A slot after it
  // may already be due by the time startServer returns (its health wait), and runs as usual.
  assert.ok(catchUp.scheduledAt !== null && catchUp.scheduledAt > downAt, "the catch-up is for a slot after drover went down");
  const duringOutage = all.filter((r) => r.scheduledAt !== null && r.scheduledAt > downAt && r.scheduledAt <= catchUp.scheduledAt!);
  assert.deepEqual(duringOutage.map((r) => r.number), [catchUp.number], "one run for the slots of the outage");
  assert.equal(all.filter((r) => r.trigger === "catch_up").length, 1);
  const view = (await jobs()).find((j) => j.name === "jobs/tick")!;
  assert.ok(view.status.missed >= 3, `missed ${view.status.missed}`);
  assert.equal((await events("CronJobSlotsMissed", "jobs/tick")).length, 1);
});
