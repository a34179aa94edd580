/** `drover rollout status|undo|promote|abort|pause|resume`, `drover rollback` and `drover diff`. */
import type { Command } from "commander";
import { formatDuration } from "../../spec/units.js";
import { ApiClient, CliError, servicePath } from "../client.js";
import { age, color, printStructured, statusColor } from "../output.js";
import { formatChanges } from "../plan-output.js";
import type { AppliedService, FieldChange, RolloutStatusView } from "../../contract/index.js";

const ACTIONS = [
  { name: "undo", help: "end the rollout under way and send every request back to the previous revision at once (without one under way: roll back to the previous revision)" },
  { name: "promote", help: "canary: skip the remaining steps and roll out fully; blue-green: switch now" },
  { name: "abort", help: "stop the rollout and go back to the previous revision" },
  { name: "pause", help: "hold the rollout where it is (no further steps)" },
  { name: "resume", help: "continue a paused rollout" },
] as const;

export function registerRollout(program: Command): void {
  const rollout = program.command("rollout").description("watch and steer rollouts: status, undo, promote, abort, pause, resume");
  rollout
    .command("status")
    .description("the rollout under way (or the last one): strategy, step, weights, ready counts, analysis, progress")
    .argument("<service>", "name or namespace/name")
    .option("-w, --watch", "redraw until the rollout ends")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, flags: { watch?: boolean; output: string }) => {
      const client = new ApiClient();
      const fetchStatus = () => client.get<RolloutStatusView>(`${servicePath(name)}/rollout`);
      let view = await fetchStatus();
      if (printStructured(flags.output, view)) return;
      if (!flags.watch) return void process.stdout.write(`${renderStatus(view)}\n`);
      let lines = 0;
      for (;;) {
        const text = renderStatus(view);
        if (process.stdout.isTTY && lines) process.stdout.write(`\u001b[${lines}A\u001b[J`);
        process.stdout.write(`${text}\n`);
        lines = text.split("\n").length;
        const state = view.rollout?.state;
        if (!state || !["progressing", "paused", "rolling_back"].includes(state)) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
        view = await fetchStatus();
      }
      if (view.rollout?.state === "failed" || view.rollout?.state === "rolled_back") process.exitCode = 1;
    });
  for (const action of ACTIONS) {
    rollout
      .command(action.name)
      .description(action.help)
      .argument("<service>", "name or namespace/name")
      .action(async (name: string) => {
        const view = await new ApiClient().post<RolloutStatusView>(`${servicePath(name)}/rollout/${action.name}`);
        process.stdout.write(`${renderStatus(view)}\n`);
      });
  }

  program
    .command("rollback")
    .description("roll a service back: a new revision with the spec of an earlier one (default: the previous good one)")
    .argument("<service>", "name or namespace/name")
    .option("--to <revision>", "the revision to go back to", (v) => positiveInt(v, "--to"))
    .option("--strategy <strategy>", "immediate (the old set at full size, then one switch), gradual (rolling) or canary; default: the revision's own strategy")
    .action(async (name: string, flags: { to?: number; strategy?: string }) => {
      if (flags.strategy !== undefined && !["immediate", "gradual", "canary"].includes(flags.strategy)) {
        throw new CliError(`--strategy must be immediate, gradual or canary, not "${flags.strategy}"`, 2);
      }
      const { applied } = await new ApiClient().post<{ applied: AppliedService & { target: number } }>(`${servicePath(name)}/rollback`, { to: flags.to, strategy: flags.strategy, author: process.env.USER });
      process.stdout.write(`${applied.name}: rolling back to revision ${applied.target} as revision ${applied.revision} (drover rollout status ${name} -w to follow)\n`);
    });

  program
    .command("diff")
    .description("what changed between two revisions of a service, field by field")
    .argument("<service>", "name or namespace/name")
    .argument("<from>", "revision number", (v) => positiveInt(v, "<from>"))
    .argument("<to>", "revision number", (v) => positiveInt(v, "<to>"))
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, from: number, to: number, flags: { output: string }) => {
      const diff = await new ApiClient().get<{ service: string; changes: FieldChange[] }>(`${servicePath(name)}/diff?from=${from}&to=${to}`);
      if (printStructured(flags.output, diff)) return;
      const lines = diff.changes.length ? formatChanges(diff.changes, "  ") : ["  no differences"];
      process.stdout.write(`${diff.service}: revision ${from} → ${to}\n${lines.join("\n")}\n`);
    });
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${name} must be a revision number (1 or more), not "${value}"`, 2);
  return n;
}

export function renderStatus(view: RolloutStatusView, now = Date.now()): string {
  const r = view.rollout;
  if (!r) return `${view.service}: no rollout yet (revision ${view.revision}, ${view.replicas.to.ready}/${view.desired} ready)`;
  const field = (label: string, value: string) => `${color.bold(`${label}:`.padEnd(12))}${value}`;
  const lines = [
    field("Rollout", `${view.service} revision ${r.fromRevision} → ${r.toRevision}, ${r.strategy.replace("_", "-")}, ${statusColor(stateWord(r.state))}${r.reason ? ` (${r.reason})` : ""}`),
    field("Started", `${age(r.startedAt, now)} ago${r.finishedAt ? `, took ${formatDuration(r.finishedAt - r.startedAt)}` : ""}`),
    field("Replicas", `new ${view.replicas.to.ready}/${view.desired} ready (${view.replicas.to.total} running), old ${view.replicas.from.ready} ready (${view.replicas.from.total} running)`),
  ];
  if (view.weights) lines.push(field("Traffic", Object.entries(view.weights).map(([rev, w]) => `revision ${rev} ${w}%`).join(", ")));
  if (view.steps.length) {
    const step = Math.min(r.step, view.steps.length);
    const pause = r.stepStartedAt !== null && step < view.steps.length ? `, paused ${formatDuration(Math.max(0, now - r.stepStartedAt))} of ${formatDuration(view.steps[step]!.pause)}` : "";
    lines.push(field("Step", step >= view.steps.length ? `promoting (all ${view.steps.length} steps done)` : `${step + 1} of ${view.steps.length}: ${view.steps[step]!.weight}%${pause}`));
  }
  if (r.analysis) lines.push(field("Analysis", `${r.analysis.verdict}: ${r.analysis.reason}`));
  lines.push(field("Progress", bar(progressShare(view))));
  if (r.metrics) {
    const m = r.metrics;
    lines.push(field("Outcome", `${m.outcome}, ${formatDuration(m.durationMs)}, ${m.requests} requests, ${m.errors} errors${m.availability === null ? "" : `, availability ${(m.availability * 100).toFixed(3)}%`}${m.rollbackDurationMs === null ? "" : `, rolled back in ${formatDuration(m.rollbackDurationMs)}`}`));
  }
  return lines.join("\n");
}

function stateWord(state: string): string {
  return state === "succeeded" ? "ready" : state === "progressing" || state === "paused" ? state : state === "rolling_back" ? "progressing" : "failed";
}

function progressShare(view: RolloutStatusView): number {
  const r = view.rollout!;
  if (r.state === "succeeded") return 1;
  const desired = Math.max(1, view.desired);
  const newShare = view.replicas.to.ready / desired;
  const oldGone = 1 - Math.min(1, view.replicas.from.total / desired);
  return Math.max(0, Math.min(1, (newShare + oldGone) / 2));
}

function bar(share: number): string {
  const width = 30;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.round(share * 100)}%`;
}
