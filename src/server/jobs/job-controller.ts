/**
 * Runs jobs and cron jobs while this server leads. Level-triggered like the reconciler: every pass
 * (each second, and on any wake) reads the jobs and their unfinished runs from the store and what
 * the agents report of the attempts, then acts — a Job's run per applied version, a cron job's run
 * per due slot (by its concurrency policy, one catch-up run after downtime), attempts started up
 * to `parallelism`, ended ones recorded with their exit and the last lines of their output, runs
 * finished, history pruned. Attempts are agent replicas whose ids mark them as a job's, which the
 * reconciler leaves alone.
 */
import { isJobAttempt, jobAttemptId, type ConfigObjectRecord, type JobAttempt, type JobRecord, type JobRun, type JobStatus, type NodeAgent, type NodeDirectory, type ReplicaStatus, type RunTrigger } from "../../contract/index.js";
import { DATABASE_ANNOTATION, type JobDescriptor, type ServiceDescriptor } from "../../spec/index.js";
import type { Store } from "../../store/store.js";
import type { EventBus } from "../event-bus.js";
import { buildLaunch, referencedObjects } from "../launch.js";
import { PlacementView, Scheduling } from "../placement.js";
import { SerialPasses } from "../serial-passes.js";
import { databaseNode } from "../stateful.js";
import { serverLog } from "../server-log.js";
import { cronOf, dueSlots } from "./cron-slots.js";
import { planRun } from "./run-plan.js";

const PASS_MS = 1_000;
/** Lines of an attempt's output kept with its run. */
const LOG_LINES = 200;
/** Stopping an attempt of a run that has ended: its own stop settings, bounded. */
const STOP_SIGNAL_FALLBACK = "SIGTERM";

export class JobController {
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private closed = false;
  private readonly passes = new SerialPasses(() => this.pass(), (error) => serverLog("error", "job controller pass failed", { error: (error as Error).message }));
  /** Attempts being stopped now, so a pass does not stop them twice. */
  private readonly stopping = new Set<string>();
  private readonly scheduling: Scheduling;

  constructor(
    private readonly store: Store,
    private readonly agent: NodeAgent & NodeDirectory,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
  ) {
    this.scheduling = new Scheduling(agent, events, async (service, number) => {
      const revision = await store.getRevision(service, number);
      if (!revision) throw new Error(`revision ${number} of ${service} is missing from the store`);
      return revision;
    });
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), PASS_MS).unref();
    // An attempt that ends is acted on at once, not at the next tick.
    this.unwatch = this.agent.watch((status) => {
      if (isJobAttempt(status.id) && status.state === "exited") this.wake();
    });
    this.wake();
  }

  /** Asks for a pass soon; passes never overlap. */
  wake(): void {
    this.passes.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.unwatch?.();
    await this.passes.close();
  }

  private async pass(): Promise<void> {
    const jobs = await this.store.listJobs();
    if (jobs.length === 0) return;
    const statuses = new Map((await this.agent.list()).filter((s) => isJobAttempt(s.id)).map((s) => [s.id, s]));
    let objects: Promise<ConfigObjectRecord[]> | undefined;
    let placement: Promise<PlacementView> | undefined;
    const context: PassContext = {
      statuses,
      configObjects: () => (objects ??= this.store.listConfigObjects()),
      placement: () => (placement ??= this.store.listReplicas().then((replicas) => this.scheduling.view(replicas))),
    };
    for (const job of jobs) {
      if (this.closed) return;
      await this.reconcileJob(job, context);
    }
  }

  private async reconcileJob(job: JobRecord, context: PassContext): Promise<void> {
    const runs = await this.store.listRuns(job.name);
    if (job.deleting) return this.remove(job, runs, context);
    const status: JobStatus = { ...job.status, nextRun: Math.max(job.status.nextRun, (runs[0]?.number ?? 0) + 1) };
    const spec = job.descriptor.spec;
    const now = this.now();
    if (job.kind === "Job" && status.ranVersion !== job.version) {
      status.ranVersion = job.version;
      runs.unshift(await this.createRun(job, status, "apply", null, 0));
    }
    if (spec.cron && !spec.cron.suspend) await this.schedule(job, status, runs, now);
    for (const run of runs) {
      if (run.state === "pending" || run.state === "running") await this.progress(job, run, status, context);
    }
    await this.prune(job, runs, now);
    if (JSON.stringify(status) !== JSON.stringify(job.status)) await this.store.updateJob(job.name, { status });
  }

  /** The due slots of a cron job: the latest one runs (by the concurrency policy) unless it is past its starting deadline; the rest are counted as missed. */
  private async schedule(job: JobRecord, status: JobStatus, runs: JobRun[], now: number): Promise<void> {
    const cron = job.descriptor.spec.cron!;
    // Slots before the job existed are not its own to run.
    const after = status.lastScheduledAt ?? job.createdAt;
    const due = dueSlots(cronOf(cron.schedule, cron.time_zone), after, now);
    if (due.latest === null) return;
    status.lastScheduledAt = due.latest;
    const passed = due.count - 1;
    if (passed > 0) {
      status.missed += passed;
      await this.events.emit({ type: "CronJobSlotsMissed", service: job.name, replica: null, reason: "Missed", message: `${passed}${due.count >= 10_000 ? " or more" : ""} slot${passed === 1 ? "" : "s"} of ${cron.schedule} passed while no run could start; the latest (${new Date(due.latest).toISOString()}) runs for them` });
    }
    if (cron.starting_deadline !== undefined && now - due.latest > cron.starting_deadline) {
      status.missed += 1;
      await this.events.emit({ type: "CronJobSlotsMissed", service: job.name, replica: null, reason: "StartingDeadlineExceeded", message: `the slot at ${new Date(due.latest).toISOString()} is ${Math.round((now - due.latest) / 1000)}s old, past starting_deadline: not run` });
      return;
    }
    const active = runs.filter((r) => r.state === "pending" || r.state === "running");
    if (active.length > 0 && cron.concurrency_policy === "Forbid") {
      status.skipped += 1;
      await this.events.emit({ type: "CronJobSlotSkipped", service: job.name, replica: null, reason: "Forbid", message: `run ${active[0]!.number} is still going: the slot at ${new Date(due.latest).toISOString()} is skipped (concurrency_policy Forbid)` });
      return;
    }
    const run = await this.createRun(job, status, passed > 0 ? "catch_up" : "schedule", due.latest, passed);
    if (active.length > 0 && cron.concurrency_policy === "Replace") {
      for (const old of active) await this.finish(job, old, status, { state: "failed", reason: `Replaced by run ${run.number} (concurrency_policy Replace)` });
    }
    runs.unshift(run);
  }

  private async createRun(job: JobRecord, status: JobStatus, trigger: RunTrigger, scheduledAt: number | null, covers: number): Promise<JobRun> {
    const run = await createRun(this.store, job, status, trigger, scheduledAt, covers, this.now());
    this.wake();
    return run;
  }

  /** Ended attempts recorded, the run finished or new attempts started. */
  private async progress(job: JobRecord, run: JobRun, status: JobStatus, context: PassContext): Promise<void> {
    const now = this.now();
    let changed = false;
    for (const attempt of run.attempts) {
      if (attempt.state !== "running" || this.stopping.has(attempt.id)) continue;
      const observed = context.statuses.get(attempt.id);
      const nodeDown = attempt.node !== null && this.agent.nodes().find((n) => n.name === attempt.node)?.state === "down";
      if (observed && observed.state !== "exited" && !nodeDown) continue;
      await this.ended(job, run, attempt, observed, nodeDown);
      changed = true;
    }
    if (run.state === "pending") {
      run.state = "running";
      run.reason = "running";
      run.startedAt = now;
      changed = true;
      await this.events.emit({ type: "JobRunStarted", service: job.name, replica: null, reason: titleCase(run.trigger), message: `run ${run.number} of ${job.name} started (${run.trigger.replace("_", "-")}${run.covers ? `, standing for ${run.covers} missed slot${run.covers === 1 ? "" : "s"}` : ""})` });
    }
    const plan = planRun(run, job.descriptor.spec, now);
    if (plan.finish) return this.finish(job, run, status, plan.finish);
    for (let i = 0; i < plan.start; i++) {
      run.attempts.push(await this.startAttempt(job, run, context));
      changed = true;
    }
    if (run.nextAttemptAt !== plan.nextAttemptAt) {
      run.nextAttemptAt = plan.nextAttemptAt;
      changed = true;
    }
    run.succeeded = run.attempts.filter((a) => a.state === "succeeded").length;
    run.failed = run.attempts.filter((a) => a.state === "failed").length;
    if (changed) await this.store.putRun(run);
  }

  private async ended(job: JobRecord, run: JobRun, attempt: JobAttempt, observed: ReplicaStatus | undefined, nodeDown: boolean): Promise<void> {
    attempt.finishedAt = this.now();
    attempt.exit = observed?.exit ? { code: observed.exit.code, signal: observed.exit.signal } : null;
    attempt.state = observed?.state === "exited" && observed.exit?.code === 0 ? "succeeded" : "failed";
    attempt.message = nodeDown ? `node ${attempt.node} is down` : !observed ? "gone: not running on its node any more" : describeExit(observed);
    if (observed) {
      attempt.log = await this.agent.tailLogs(attempt.id, LOG_LINES).catch(() => []);
      await this.agent.remove(attempt.id).catch(() => undefined);
    }
    if (attempt.state === "failed") {
      await this.events.emit({ type: "JobAttemptFailed", service: job.name, replica: attempt.id, reason: "Failed", message: `run ${run.number}: attempt ${attempt.id} ${attempt.message}` });
    }
  }

  private async startAttempt(job: JobRecord, run: JobRun, context: PassContext): Promise<JobAttempt> {
    const id = jobAttemptId(job.name, run.number, run.attempts.length + 1);
    const descriptor = workloadOf(job.descriptor);
    const decision = (await context.placement()).place(job.name, descriptor.spec, await this.pinnedNode(job));
    const attempt: JobAttempt = { id, node: decision.node, startedAt: this.now(), finishedAt: null, state: "running", exit: null, message: "started", log: [] };
    if (decision.node === null) {
      // Nowhere to run it now: a failed attempt (with its reason) that the backoff retries.
      return { ...attempt, state: "failed", finishedAt: this.now(), message: `unschedulable: ${decision.message}` };
    }
    const launch = buildLaunch({ id, service: job.name, revision: job.version, ports: {} }, descriptor, referencedObjects(descriptor, await context.configObjects()));
    launch.env = { ...launch.env, DROVER_JOB: job.name, DROVER_JOB_RUN: String(run.number), DROVER_JOB_ATTEMPT: String(run.attempts.length + 1) };
    this.agent.assign(id, decision.node);
    const status = await this.agent.start(launch);
    // A launch that failed outright (a missing program) is seen as exited on the next pass.
    context.statuses.set(id, status);
    return attempt;
  }

  /**
   * Where a job's attempts must run, if anywhere in particular: a database's backups on the
   * database's own node, the only one whose router surely reaches it and where its backups are
   * kept beside its data (when that node is away, the backup fails and says so).
   */
  private async pinnedNode(job: JobRecord): Promise<string | undefined> {
    const database = job.descriptor.metadata.annotations?.[DATABASE_ANNOTATION];
    if (!database) return undefined;
    return (await databaseNode(this.store, `${job.descriptor.metadata.namespace}/${database}`)) ?? undefined;
  }

  /** The run is over: attempts still running are stopped; the result is stored, counted and said. */
  private async finish(job: JobRecord, run: JobRun, status: JobStatus, outcome: { state: "succeeded" | "failed"; reason: string }): Promise<void> {
    const now = this.now();
    const stop = job.descriptor.spec.workload.stop;
    for (const attempt of run.attempts.filter((a) => a.state === "running")) {
      this.stopping.add(attempt.id);
      await this.agent.stop(attempt.id, stop.signal ?? STOP_SIGNAL_FALLBACK, stop.grace_period).catch(() => undefined);
      attempt.log = await this.agent.tailLogs(attempt.id, LOG_LINES).catch(() => []);
      await this.agent.remove(attempt.id).catch(() => undefined);
      this.stopping.delete(attempt.id);
      Object.assign(attempt, { state: "failed", finishedAt: this.now(), message: `stopped: ${outcome.reason}` });
    }
    Object.assign(run, {
      state: outcome.state,
      reason: outcome.reason,
      finishedAt: now,
      nextAttemptAt: null,
      succeeded: run.attempts.filter((a) => a.state === "succeeded").length,
      failed: run.attempts.filter((a) => a.state === "failed").length,
    });
    await this.store.putRun(run);
    if (outcome.state === "succeeded") status.lastSuccessAt = now;
    else status.lastFailureAt = now;
    const took = run.startedAt !== null ? ` in ${((now - run.startedAt) / 1000).toFixed(1)}s` : "";
    await this.events.emit({ type: outcome.state === "succeeded" ? "JobRunSucceeded" : "JobRunFailed", service: job.name, replica: null, reason: outcome.state === "succeeded" ? "Succeeded" : outcome.reason.split(":")[0]!, message: `run ${run.number} of ${job.name} ${outcome.state}${took}: ${outcome.reason}` });
  }

  /** Finished runs past their time to live, and a cron job's beyond its history counts, go (their logs with them). */
  private async prune(job: JobRecord, runs: JobRun[], now: number): Promise<void> {
    const { ttl_after_finished: ttl, cron } = job.descriptor.spec;
    const finished = runs.filter((r) => r.state === "succeeded" || r.state === "failed");
    const doomed = new Set<JobRun>();
    if (ttl !== undefined) for (const run of finished) if (run.finishedAt !== null && now - run.finishedAt >= ttl) doomed.add(run);
    if (cron) {
      // Newest first: the first `history` of each kind stay.
      finished.filter((r) => r.state === "succeeded").slice(cron.successful_history).forEach((r) => doomed.add(r));
      finished.filter((r) => r.state === "failed").slice(cron.failed_history).forEach((r) => doomed.add(r));
    }
    for (const run of doomed) await this.store.deleteRun(job.name, run.number);
  }

  /** `drover job rm`: running attempts stopped, then the job and its runs go. */
  private async remove(job: JobRecord, runs: JobRun[], context: PassContext): Promise<void> {
    const stop = job.descriptor.spec.workload.stop;
    for (const run of runs) {
      for (const attempt of run.attempts) {
        if (attempt.state === "running" || context.statuses.has(attempt.id)) {
          await this.agent.stop(attempt.id, stop.signal, stop.grace_period).catch(() => undefined);
          await this.agent.remove(attempt.id).catch(() => undefined);
        }
      }
    }
    await this.store.deleteJob(job.name);
    await this.events.emit({ type: "JobDeleted", service: job.name, replica: null, reason: "Deleted", message: `${job.kind} ${job.name} and its ${runs.length} run${runs.length === 1 ? "" : "s"} deleted` });
  }
}

interface PassContext {
  statuses: Map<string, ReplicaStatus>;
  configObjects: () => Promise<ConfigObjectRecord[]>;
  placement: () => Promise<PlacementView>;
}

/** A new run under the next free number (another server may have numbered one first: the next then). */
export async function createRun(store: Store, job: JobRecord, status: JobStatus, trigger: RunTrigger, scheduledAt: number | null, covers: number, now: number): Promise<JobRun> {
  for (;;) {
    const run: JobRun = { job: job.name, number: status.nextRun, version: job.version, trigger, scheduledAt, createdAt: now, startedAt: null, finishedAt: null, state: "pending", reason: "waiting to start", succeeded: 0, failed: 0, covers, nextAttemptAt: null, attempts: [] };
    status.nextRun += 1;
    if (await store.insertRun(run)) return run;
  }
}

/** The job's workload as a one-replica service without ports: how its attempts launch. */
export function workloadOf(job: JobDescriptor): ServiceDescriptor {
  return { apiVersion: job.apiVersion, kind: "Service", metadata: job.metadata, spec: job.spec.workload };
}

function describeExit(status: ReplicaStatus): string {
  const exit = status.exit;
  if (!exit) return status.message;
  if (exit.reason) return status.message;
  if (exit.signal) return `killed by ${exit.signal}${exit.oomKilled ? " (out of memory)" : ""}`;
  return exit.code === 0 ? "exited 0" : `exited ${exit.code}`;
}

function titleCase(word: string): string {
  return word.split("_").map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}
