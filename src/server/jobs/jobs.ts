/**
 * Jobs as the control plane holds them: the controller runs while this server leads; every server
 * answers what the jobs and their runs are from the store, starts a manual run, and marks a job
 * for removal (the leader's controller stops what runs and deletes it).
 */
import type { JobRecord, JobRun, JobView, NodeAgent, NodeDirectory } from "../../contract/index.js";
import type { Store } from "../../store/store.js";
import type { EventBus } from "../event-bus.js";
import { cronOf } from "./cron-slots.js";
import { createRun, JobController } from "./job-controller.js";

export class Jobs {
  private controller: JobController | null = null;

  constructor(
    /** Reads and the API's writes (any server). */
    private readonly store: Store,
    /** The controller's writes: the store fenced by this server's lease term. */
    private readonly controllerStore: Store,
    private readonly agent: NodeAgent & NodeDirectory,
    private readonly events: EventBus,
    private readonly controllerEvents: EventBus,
  ) {}

  lead(): void {
    if (this.controller) return;
    this.controller = new JobController(this.controllerStore, this.agent, this.controllerEvents);
    this.controller.start();
  }

  async stepDown(): Promise<void> {
    const controller = this.controller;
    this.controller = null;
    await controller?.close();
  }

  wake(): void {
    this.controller?.wake();
  }

  async views(): Promise<JobView[]> {
    const jobs = await this.store.listJobs();
    return Promise.all(jobs.map(async (job) => jobView(job, await this.store.listRuns(job.name), Date.now())));
  }

  /** By `namespace/name`, or by name alone where that is unambiguous. */
  async find(name: string): Promise<JobRecord | undefined> {
    const jobs = await this.store.listJobs();
    const exact = jobs.find((j) => j.name === name);
    if (exact) return exact;
    const byName = jobs.filter((j) => j.name.endsWith(`/${name}`));
    return byName.length === 1 ? byName[0] : undefined;
  }

  runs(job: string, limit?: number): Promise<JobRun[]> {
    return this.store.listRuns(job, limit);
  }

  /** `drover job run NAME`: a run now, whatever the schedule says (a suspended cron job too). */
  async runNow(job: JobRecord, author: string): Promise<JobRun> {
    const status = { ...job.status };
    const run = await createRun(this.store, job, status, "manual", null, 0, Date.now());
    await this.events.emit({ type: "JobRunRequested", service: job.name, replica: null, reason: "Manual", message: `run ${run.number} of ${job.name} asked for by ${author}` });
    this.store.changes.wake();
    return run;
  }

  async markDeleting(job: JobRecord): Promise<void> {
    await this.store.updateJob(job.name, { deleting: true });
    this.store.changes.wake();
  }
}

export function jobView(job: JobRecord, runs: JobRun[], now: number): JobView {
  const { cron, completions, parallelism } = job.descriptor.spec;
  const last = runs[0];
  let nextRunAt: number | null = null;
  if (cron && !cron.suspend) nextRunAt = cronOf(cron.schedule, cron.time_zone).nextRun(new Date(Math.max(now, job.status.lastScheduledAt ?? job.createdAt)))?.getTime() ?? null;
  return {
    name: job.name,
    kind: job.kind,
    version: job.version,
    schedule: cron?.schedule ?? null,
    timeZone: cron?.time_zone ?? null,
    suspended: cron?.suspend ?? false,
    concurrencyPolicy: cron?.concurrency_policy ?? null,
    completions,
    parallelism,
    lastRun: last ? { number: last.number, state: last.state, reason: last.reason, startedAt: last.startedAt, finishedAt: last.finishedAt, trigger: last.trigger } : null,
    active: runs.filter((r) => r.state === "pending" || r.state === "running").length,
    nextRunAt,
    status: job.status,
    deleting: job.deleting,
  };
}
