/**
 * Job and cron job series for Prometheus: the last success and failure times (an alert on
 * `time() - drover_job_last_success_timestamp_seconds` catches a job that stopped succeeding,
 * including one that stopped running at all), runs by outcome among those kept, running runs, and
 * a cron job's skipped and missed slots.
 */
import type { JobView } from "../contract/index.js";
import type { Family } from "./prometheus.js";

export function jobFamilies(jobs: JobView[], runCounts: Map<string, { succeeded: number; failed: number }>): Family[] {
  const family = (name: string, type: Family["type"], help: string): Family => ({ name, type, help, samples: [] });
  const lastSuccess = family("drover_job_last_success_timestamp_seconds", "gauge", "When the job's last run succeeded (Unix seconds); absent until one has.");
  const lastFailure = family("drover_job_last_failure_timestamp_seconds", "gauge", "When the job's last run failed (Unix seconds); absent until one has.");
  const runs = family("drover_job_runs", "gauge", "The job's runs kept in its history, by outcome.");
  const active = family("drover_job_active_runs", "gauge", "Runs of the job going now.");
  const skipped = family("drover_cronjob_skipped_slots_total", "counter", "Slots a cron job skipped because a run was still going (concurrency_policy Forbid).");
  const missed = family("drover_cronjob_missed_slots_total", "counter", "Slots that passed without a run of their own (drover down, or past starting_deadline).");
  for (const job of jobs) {
    const labels = { namespace: job.name.slice(0, job.name.indexOf("/")), job: job.name.slice(job.name.indexOf("/") + 1), kind: job.kind };
    if (job.status.lastSuccessAt !== null) lastSuccess.samples.push({ labels, value: job.status.lastSuccessAt / 1000 });
    if (job.status.lastFailureAt !== null) lastFailure.samples.push({ labels, value: job.status.lastFailureAt / 1000 });
    const counts = runCounts.get(job.name) ?? { succeeded: 0, failed: 0 };
    runs.samples.push({ labels: { ...labels, result: "succeeded" }, value: counts.succeeded }, { labels: { ...labels, result: "failed" }, value: counts.failed });
    active.samples.push({ labels, value: job.active });
    if (job.kind === "CronJob") {
      skipped.samples.push({ labels, value: job.status.skipped });
      missed.samples.push({ labels, value: job.status.missed });
    }
  }
  return [lastSuccess, lastFailure, runs, active, skipped, missed];
}
