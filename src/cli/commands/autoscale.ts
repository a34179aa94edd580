/** `drover autoscale status` and `drover recommend`. */
import type { Command } from "commander";
import type { AutoscaleStatus } from "../../server/autoscale/autoscaler.js";
import type { Recommendations } from "../../server/autoscale/recommend.js";
import { METRIC_UNITS } from "../../server/autoscale/settings.js";
import { formatDuration } from "../../spec/units.js";
import { ApiClient, servicePath } from "../client.js";
import { age, color, memory, printStructured, table } from "../output.js";

export function registerAutoscale(program: Command): void {
  const autoscale = program.command("autoscale").description("see what the autoscaler sees and decides");
  autoscale
    .command("status")
    .description("current and desired replicas, each metric against its target, recent decisions with their inputs, the forecast")
    .argument("<service>", "name or namespace/name")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, flags: { output: string }) => {
      const status = await new ApiClient().get<AutoscaleStatus>(`${servicePath(name)}/autoscale`);
      if (printStructured(flags.output, status)) return;
      process.stdout.write(`${renderStatus(status)}\n`);
    });

  program
    .command("recommend")
    .description("right-sized resource requests and scaling settings from the last week's usage, each with its reason and saving")
    .argument("<service>", "name or namespace/name")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, flags: { output: string }) => {
      const view = await new ApiClient().get<Recommendations & { service: string }>(`${servicePath(name)}/recommendations`);
      if (printStructured(flags.output, view)) return;
      process.stdout.write(`${renderRecommendations(view)}\n`);
    });
}

export function renderStatus(s: AutoscaleStatus, now = Date.now()): string {
  const lines = [`${color.bold(s.service)}: ${s.enabled ? `autoscaling between ${s.min} and ${s.max} replicas` : "not autoscaled"}`];
  lines.push(`replicas: ${s.current} now${s.desired !== null ? `, ${s.desired} desired at the last decision` : ""}`);
  if (s.note) lines.push(color.yellow(s.note));
  const measured = s.readings.filter((r) => r.target !== null || r.value !== null);
  if (measured.length) {
    lines.push("", table(["METRIC", "PER REPLICA", "TARGET"], measured.map((r) => [r.metric, r.value === null ? "missing" : `${round(r.value)}${METRIC_UNITS[r.metric]}`, r.target === null ? "-" : `${r.target}${METRIC_UNITS[r.metric]}`])));
  }
  if (s.forecast) {
    const f = s.forecast;
    lines.push("", color.bold("Forecast:"));
    if (!f.model) lines.push(`  learning: ${f.minutes} of ${f.needed} minutes of history (two seasons) before the first forecast`);
    else {
      lines.push(`  Holt-Winters over ${f.minutes} minutes of ${f.metric}: α ${f.model.alpha}, β ${f.model.beta}, γ ${f.model.gamma}, mean error ${round(f.model.meanAbsoluteError)}`);
      if (f.floor) lines.push(`  in ${formatDuration(f.floor.leadTimeMs)} (startup + margin): ${round(f.floor.load)} ${f.floor.metric === "rps" ? "req/s" : "cores"} → at least ${f.floor.replicas} replicas`);
    }
  }
  lines.push("", color.bold("Decisions:"));
  const changes = s.decisions.filter((d) => d.to !== d.from);
  const shown = s.decisions.slice(-5);
  for (const d of [...changes.filter((c) => !shown.includes(c)).slice(-5), ...shown]) lines.push(`  ${age(d.at, now)} ago  ${d.to === d.from ? d.text : color.bold(d.text)}`);
  if (!s.decisions.length) lines.push("  none yet");
  return lines.join("\n");
}

export function renderRecommendations(view: Recommendations & { service: string }): string {
  const lines = [`${color.bold(view.service)}: ${view.window.minutes} minutes of history${view.window.minutes ? ` (${new Date(view.window.from).toISOString()} to ${new Date(view.window.to).toISOString()})` : ""}`];
  if (view.note) return [...lines, color.yellow(view.note)].join("\n");
  for (const r of view.recommendations) {
    const saving = [r.saving.cpuCores > 0 ? `${Math.round(r.saving.cpuCores * 1000)}m CPU` : "", r.saving.memoryBytes > 0 ? `${memory(r.saving.memoryBytes)} memory` : "", r.saving.watts > 0 ? `${r.saving.watts.toFixed(2)} W` : ""].filter(Boolean);
    lines.push("", `${color.bold(r.field)}: ${r.current} → ${color.green(r.recommended)}`, `  why: ${r.reason}`, `  saves: ${saving.join(", ") || "nothing (it makes the service safer or its scaling possible)"}`);
  }
  return lines.join("\n");
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
