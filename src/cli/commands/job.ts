/** `drover job ls|runs|logs|run|rm`: jobs and cron jobs (kind: Job / CronJob, applied like any descriptor) and their runs. */
import type { Command } from "commander";
import type { JobRun, JobView } from "../../contract/index.js";
import { ApiClient, CliError, EXIT_USAGE } from "../client.js";
import { age, color, printStructured, statusColor, table } from "../output.js";

const path = (name: string) => `/api/v1/jobs/${encodeURIComponent(name)}`;

interface RunLogs {
  run: number;
  state: string;
  attempts: Array<{ id: string; state: string; message: string; lines: string[] }>;
}

export function registerJob(program: Command): void {
  const job = program.command("job").description("jobs and cron jobs: runs to completion, on a schedule or by hand, each run kept with its exit, duration and output");

  job
    .command("ls")
    .description("list jobs: kind, schedule, last run (state, when, how long), running now, next run")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { output: string }) => {
      const { jobs } = await new ApiClient().get<{ jobs: JobView[] }>("/api/v1/jobs");
      if (printStructured(flags.output, jobs)) return;
      if (jobs.length === 0) return void process.stdout.write("no jobs (apply a kind: Job or kind: CronJob descriptor)\n");
      const now = Date.now();
      const rows = jobs.map((j) => [
        j.name,
        j.kind,
        j.schedule ? `${j.schedule}${j.timeZone ? ` (${j.timeZone})` : ""}${j.suspended ? color.yellow(" suspended") : ""}` : "-",
        j.lastRun ? `#${j.lastRun.number} ${statusColor(j.lastRun.state)} ${age(j.lastRun.finishedAt ?? j.lastRun.startedAt, now)} ago` : "-",
        j.lastRun?.startedAt ? duration((j.lastRun.finishedAt ?? now) - j.lastRun.startedAt) : "-",
        String(j.active),
        j.nextRunAt ? `in ${age(now, j.nextRunAt)}` : "-",
        j.deleting ? color.yellow("being removed") : j.status.skipped || j.status.missed ? `${j.status.skipped} skipped, ${j.status.missed} missed` : "",
      ]);
      process.stdout.write(`${table(["NAME", "KIND", "SCHEDULE", "LAST RUN", "TOOK", "ACTIVE", "NEXT", "NOTES"], rows)}\n`);
    });

  job
    .command("runs")
    .description("a job's runs, newest first: trigger, state, attempts succeeded/failed, start, duration and why it ended")
    .argument("<name>", "the job (name or namespace/name)")
    .option("-n, --limit <count>", "at most this many runs", "20")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (name: string, flags: { limit: string; output: string }) => {
      if (!/^[1-9]\d*$/.test(flags.limit)) throw new CliError(`--limit: expected a whole number above 0, got "${flags.limit}"`, EXIT_USAGE);
      const { runs } = await new ApiClient().get<{ runs: JobRun[] }>(`${path(name)}/runs?limit=${flags.limit}`);
      if (printStructured(flags.output, runs)) return;
      if (runs.length === 0) return void process.stdout.write(`no runs of ${name} yet\n`);
      const now = Date.now();
      const rows = runs.map((r) => [
        `#${r.number}`,
        r.trigger.replace("_", "-") + (r.covers ? ` (+${r.covers} missed)` : ""),
        statusColor(r.state),
        `${r.succeeded}/${r.failed}`,
        r.startedAt ? `${age(r.startedAt, now)} ago` : "-",
        r.startedAt ? duration((r.finishedAt ?? now) - r.startedAt) : "-",
        r.reason,
      ]);
      process.stdout.write(`${table(["RUN", "TRIGGER", "STATE", "OK/FAILED", "STARTED", "TOOK", "REASON"], rows)}\n`);
    });

  job
    .command("logs")
    .description("the output of a run's attempts (the newest run unless --run): kept with the run once it ended, live while it runs")
    .argument("<name>", "the job (name or namespace/name)")
    .option("--run <number>", "this run")
    .action(async (name: string, flags: { run?: string }) => {
      if (flags.run !== undefined && !/^[1-9]\d*$/.test(flags.run)) throw new CliError(`--run: expected a run number, got "${flags.run}"`, EXIT_USAGE);
      const client = new ApiClient();
      let number = flags.run;
      if (number === undefined) {
        const { runs } = await client.get<{ runs: JobRun[] }>(`${path(name)}/runs?limit=1`);
        if (runs.length === 0) return void process.stdout.write(`no runs of ${name} yet\n`);
        number = String(runs[0]!.number);
      }
      const logs = await client.get<RunLogs>(`${path(name)}/runs/${number}/logs`);
      for (const attempt of logs.attempts) {
        process.stdout.write(`${color.bold(`── ${attempt.id} (${attempt.state}: ${attempt.message})`)}\n`);
        if (attempt.lines.length) process.stdout.write(`${attempt.lines.join("\n")}\n`);
      }
    });

  job
    .command("run")
    .description("start a run now, whatever the schedule says (a suspended cron job too)")
    .argument("<name>", "the job (name or namespace/name)")
    .action(async (name: string) => {
      const { run } = await new ApiClient().post<{ run: JobRun }>(`${path(name)}/runs`, {});
      process.stdout.write(`${run.job}: run ${run.number} started (watch with drover job runs ${name}; output with drover job logs ${name} --run ${run.number})\n`);
    });

  job
    .command("rm")
    .description("remove a job: its running attempts are stopped, then it goes with its runs (applying it again brings it back)")
    .argument("<name>", "the job (name or namespace/name)")
    .action(async (name: string) => {
      const removed = await new ApiClient().delete<{ job: string }>(path(name));
      process.stdout.write(`${removed.job}: stopping what runs, then removing it and its runs\n`);
    });
}

function duration(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : age(0, ms);
}
