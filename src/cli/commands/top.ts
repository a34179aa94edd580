/** `drover top`: a live table of CPU, memory, power, requests, p95 and errors per service and replica. */
import type { Command } from "commander";
import { ApiClient } from "../client.js";
import { color, memory, printStructured, table } from "../output.js";
import type { TopView } from "../../contract/index.js";

export function registerTop(program: Command): void {
  program
    .command("top")
    .description("a live table per service and replica: CPU, memory, watts, requests per second, p95 latency, errors (refreshes until Ctrl-C)")
    .option("--once", "print one table and exit")
    .option("-i, --interval <seconds>", "refresh interval", "2")
    .option("-o, --output <format>", "table, json or yaml (json and yaml print once)", "table")
    .action(async (flags: { once?: boolean; interval: string; output: string }) => {
      const client = new ApiClient();
      const view = await client.get<TopView>("/api/v1/top");
      if (printStructured(flags.output, view)) return;
      const once = flags.once || !process.stdout.isTTY;
      if (once) return void process.stdout.write(`${render(view)}\n`);
      const interval = Math.max(0.5, Number(flags.interval) || 2) * 1000;
      let current = view;
      for (;;) {
        process.stdout.write(`\u001b[H\u001b[2J${render(current)}\n`);
        await new Promise((resolve) => setTimeout(resolve, interval));
        current = await client.get<TopView>("/api/v1/top");
      }
    });
}

export function render(view: TopView): string {
  const cores = (n: number) => `${(n * 100).toFixed(1)}%`;
  const rows: string[][] = [];
  for (const s of view.services) {
    const p = s.point;
    rows.push([
      color.bold(s.name),
      `${s.ready}/${s.desired}`,
      p ? cores(p.cpuCores) : "-",
      p ? memory(p.memoryBytes) : "-",
      p ? p.watts.toFixed(2) : "-",
      p ? p.requestsPerSecond.toFixed(1) : "-",
      p?.p95Ms != null ? `${p.p95Ms.toFixed(1)}ms` : "-",
      p?.errorRate != null ? `${(p.errorRate * 100).toFixed(1)}%` : "-",
      // Energy per request from the router's counts: the service's power over its request rate.
      p && p.requestsPerSecond > 0 ? (p.watts / p.requestsPerSecond).toFixed(4) : "-",
    ]);
    for (const r of s.replicas) {
      const f = r.figures;
      rows.push([`  ${r.id}`, r.state, f ? cores(f.cpuCores) : "-", f ? memory(f.memoryBytes) : "-", f ? f.watts.toFixed(2) : "-", "", "", "", ""]);
    }
  }
  const busy = (u: number | null) => (u === null ? "-" : `${(u * 100).toFixed(0)}% busy`);
  const source = (s: string) => (s === "rapl" ? "measured, RAPL" : "estimated, model");
  // One machine: one line; several: a line per node.
  const hosts =
    view.nodes.length > 1
      ? view.nodes.map((n) => `node ${n.name} (${n.state}, ${n.replicas} replicas): ${busy(n.utilisation)}, ${n.watts === null ? "-" : `${n.watts.toFixed(1)} W`} (${source(n.source)})`).join("\n")
      : `host: ${busy(view.host.utilisation)}, ${view.host.watts.toFixed(1)} W (${source(view.energySource)})`;
  return `${hosts}\n${table(["SERVICE / REPLICA", "READY", "CPU", "MEM", "WATTS", "RPS", "P95", "ERRORS", "J/REQ"], rows)}`;
}
