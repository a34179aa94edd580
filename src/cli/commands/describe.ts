import type { Command } from "commander";
import type { ReplicaView, ServiceSummary } from "../../server/control-plane.js";
import type { EventRecord, RevisionRecord } from "../../store/records.js";
import { formatDuration } from "../../spec/units.js";
import { ApiClient, servicePath } from "../client.js";
import { age, color, printStructured, statusColor } from "../output.js";
import { replicasTable } from "../tables.js";

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
    field("Ports", spec.networking.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`).join(", ") || "-"),
    field("Restart", `${spec.restart.policy}, backoff ${formatDuration(spec.restart.backoff.initial)}×${spec.restart.backoff.multiplier} up to ${formatDuration(spec.restart.backoff.max)}, reset after ${formatDuration(spec.restart.backoff.reset_after)}`),
    field("Stop", `${spec.stop.signal}, grace ${formatDuration(spec.stop.grace_period)}`),
    field("Depends on", spec.dependencies.map((d) => `${d.name}${d.required ? "" : " (optional)"}`).join(", ") || "-"),
  ];
  if (service.waitingFor.length) lines.push(field("Waiting for", service.waitingFor.join(", ")));
  lines.push("", color.bold("Replicas:"), replicas.length ? replicasTable(replicas) : "  none");
  for (const r of replicas) {
    if (r.nextStartAt !== null) lines.push(`  ${r.id}: ${r.reason}, next start in ${formatDuration(Math.max(0, r.nextStartAt - Date.now()))} (failures in a row: ${r.consecutiveFailures})`);
  }
  lines.push("", color.bold("Events:"));
  for (const e of events) lines.push(`  ${age(e.time)} ago  ${e.type}  ${e.replica ?? ""}  ${e.reason}: ${e.message}`);
  return lines.join("\n");
}
