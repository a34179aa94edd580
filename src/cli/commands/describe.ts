import type { Command } from "commander";
import type { EventRecord, ReplicaView, RevisionRecord, ServiceSummary } from "../../contract/index.js";
import { formatDuration } from "../../spec/units.js";
import { ApiClient, servicePath } from "../client.js";
import { age, color, printStructured, statusColor } from "../output.js";
import { exitText, replicasTable } from "../tables.js";

interface Description {
  service: ServiceSummary;
  revision: RevisionRecord;
  replicas: ReplicaView[];
  events: EventRecord[];
}

export function registerDescribe(program: Command): void {
  program
    .command("describe")
    .description("show a service in detail: revision, spec summary, replicas with usage, recent events")
    .argument("<service>", "name or namespace/name")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, flags: { output: string }) => {
      const description = await new ApiClient().get<Description>(servicePath(name));
      if (!printStructured(flags.output, description)) process.stdout.write(`${render(description)}\n`);
    });
}

/** Per replica: state and why, last exit, backoff, healing attempts, each probe's latest result. */
function replicaDetails(r: ReplicaView, rules: Description["revision"]["descriptor"]["spec"]["healing"], now = Date.now()): string[] {
  const lines = [`  ${color.bold(r.id)}: ${statusColor(r.state)} (${r.reason}) on node ${r.node || "(none yet)"}, restarts ${r.restarts}, failures in a row ${r.consecutiveFailures}`];
  if (r.where) lines.push(`    ${r.where}`);
  if (r.lastExit) lines.push(`    last exit: ${exitText(r)}${r.lastExit.oomKilled ? ", killed by the OOM killer" : ""}, ${age(r.lastExit.at, now)} ago`);
  if (r.nextStartAt !== null) lines.push(`    backoff: next ${r.state === "pending" ? "start" : "restart"} in ${formatDuration(Math.max(0, r.nextStartAt - now))} (at ${new Date(r.nextStartAt).toISOString()})`);
  if (r.healing.pending) lines.push(`    healing: stopping for ${r.healing.pending.trigger}: ${r.healing.pending.reason}`);
  const used = Object.entries(r.healing.attempts).map(([i, n]) => ({ rule: rules[Number(i)], n })).filter((u) => u.rule);
  if (used.length) lines.push(`    healing attempts: ${used.map((u) => `${u.rule!.trigger} ${u.rule!.action} ${u.n}/${u.rule!.max_attempts}`).join(", ")}`);
  for (const probe of r.probes) {
    const last = probe.last ? `${probe.last.message}, ${probe.last.latencyMs}ms, ${age(probe.last.at, now)} ago` : "no result yet";
    lines.push(`    ${probe.kind.padEnd(9)} ${probeColor(probe.state)}  ${probe.target}: ${last}`);
  }
  return lines;
}

function probeColor(state: string): string {
  const padded = state.padEnd(7);
  return state === "passing" ? color.green(padded) : state === "failing" ? color.red(padded) : color.yellow(padded);
}

function render({ service, revision, replicas, events }: Description): string {
  const { spec, metadata } = revision.descriptor;
  const field = (label: string, value: string) => `${color.bold(`${label}:`.padEnd(14))}${value}`;
  const lines = [
    field("Service", service.name),
    field("Status", `${statusColor(service.status)}, ${service.ready}/${service.desired} ready`),
    field("Revision", `${revision.number} by ${revision.author}, ${age(revision.createdAt)} ago${revision.message ? ` (${revision.message})` : ""}`),
    field("Version", metadata.version ?? "-"),
    field("Runtime", `${spec.runtime}: ${spec.command?.join(" ") ?? `${spec.image?.repository}:${spec.image?.tag}`}`),
    field("Working dir", spec.working_dir),
    field("Ports", spec.networking.ports.map((p) => `${p.name} ${p.port}${p.target_port !== undefined ? `→${p.target_port}` : ""}/${p.protocol}${p.expose === false ? " (loopback only)" : ""}`).join(", ") || "-"),
    field("Restart", `${spec.restart.policy}, backoff ${formatDuration(spec.restart.backoff.initial)}×${spec.restart.backoff.multiplier} up to ${formatDuration(spec.restart.backoff.max)}, reset after ${formatDuration(spec.restart.backoff.reset_after)}`),
    field("Stop", `${spec.stop.signal}, grace ${formatDuration(spec.stop.grace_period)}`),
    field("Depends on", spec.dependencies.map((d) => `${d.name}${d.required ? "" : " (optional)"}`).join(", ") || "-"),
  ];
  if (service.problem) lines.push(field("Problem", color.red(service.problem)));
  if (service.waitingFor.length) lines.push(field("Waiting for", service.waitingFor.join(", ")));
  if (spec.healing.length) lines.push(field("Healing", spec.healing.map((h) => `${h.trigger} → ${h.action} (max ${h.max_attempts}, ×${h.backoff_multiplier})`).join("; ")));
  lines.push("", color.bold("Replicas:"), replicas.length ? replicasTable(replicas) : "  none");
  for (const r of replicas) lines.push(...replicaDetails(r, spec.healing));
  lines.push("", color.bold("Events:"));
  for (const e of events) lines.push(`  ${age(e.time)} ago  ${e.type}  ${e.replica ?? ""}  ${e.reason}: ${e.message}`);
  return lines.join("\n");
}
