/** Jobs and cron jobs: the stored job, its runs and each run's attempts, and what the API shows of them. */
import type { JobDescriptor } from "../spec/index.js";

/** What the job controller keeps between passes (and across restarts and leaders). */
export interface JobStatus {
  /** The last cron slot dealt with (run, skipped or missed); null: none yet. */
  lastScheduledAt: number | null;
  /** A Job's version that has had its run: applying it again does not run it again. */
  ranVersion: number | null;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  /** Slots skipped because a run was still going (concurrency_policy: Forbid). */
  skipped: number;
  /** Slots that passed while drover was down or late past starting_deadline (not run; at most one catch-up run covers them). */
  missed: number;
  /** The number the next run gets. */
  nextRun: number;
}

export const EMPTY_JOB_STATUS: JobStatus = { lastScheduledAt: null, ranVersion: null, lastSuccessAt: null, lastFailureAt: null, skipped: 0, missed: 0, nextRun: 1 };

export interface JobRecord {
  /** `namespace/name` */
  name: string;
  namespace: string;
  kind: "Job" | "CronJob";
  descriptor: JobDescriptor;
  hash: string;
  version: number;
  status: JobStatus;
  /** `drover job rm`: its running attempts are stopped, then the job and its runs go. */
  deleting: boolean;
  createdAt: number;
  updatedAt: number;
}

export type RunTrigger = "apply" | "schedule" | "catch_up" | "manual";
export type RunState = "pending" | "running" | "succeeded" | "failed";

export interface JobAttempt {
  /** The replica id the agent knows it by. */
  id: string;
  node: string | null;
  startedAt: number;
  finishedAt: number | null;
  state: "running" | "succeeded" | "failed";
  exit: { code: number | null; signal: string | null } | null;
  message: string;
  /** The last lines of its output, kept with the run once it has ended (the agent's files go). */
  log: string[];
}

export interface JobRun {
  job: string;
  number: number;
  /** The job's version it runs. */
  version: number;
  trigger: RunTrigger;
  /** The cron slot it stands for. */
  scheduledAt: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  state: RunState;
  reason: string;
  succeeded: number;
  failed: number;
  /** Slots it stands in for beyond its own (a catch-up run after downtime). */
  covers: number;
  /** When the next attempt may start (backoff after a failure). */
  nextAttemptAt: number | null;
  attempts: JobAttempt[];
}

/** A job as `drover job ls` and the dashboard show it. */
export interface JobView {
  name: string;
  kind: "Job" | "CronJob";
  version: number;
  schedule: string | null;
  timeZone: string | null;
  suspended: boolean;
  concurrencyPolicy: string | null;
  completions: number;
  parallelism: number;
  /** The newest run, if any. */
  lastRun: Pick<JobRun, "number" | "state" | "reason" | "startedAt" | "finishedAt" | "trigger"> | null;
  active: number;
  nextRunAt: number | null;
  status: JobStatus;
  deleting: boolean;
}

/** A job attempt's replica id: never a service replica's (a service name holds no dot). */
export function jobAttemptId(job: string, run: number, attempt: number): string {
  return `job.${job.replace("/", ".")}.${run}-${attempt}`;
}

export function isJobAttempt(replicaId: string): boolean {
  return replicaId.startsWith("job.");
}

/** Whether a job stopped succeeding (a failure newer than its last success): a database's backup alert, a failing job in `drover doctor`. */
export function lastRunFailed(status: Pick<JobStatus, "lastFailureAt" | "lastSuccessAt">): boolean {
  return status.lastFailureAt !== null && (status.lastSuccessAt === null || status.lastFailureAt > status.lastSuccessAt);
}
