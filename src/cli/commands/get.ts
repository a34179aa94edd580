import type { Command } from "commander";
import type { ReplicaRecord, ServiceSummary } from "../../contract/index.js";
import { ApiClient } from "../client.js";
import { printStructured } from "../output.js";
import { replicasTable, servicesTable } from "../tables.js";

export function registerGet(program: Command): void {
  program
    .command("get")
    .alias("ls")
    .description("list services: revision, ready/desired replicas, status, restarts, ports")
    .argument("[service]", "only this service (name or namespace/name)")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (service: string | undefined, flags: { output: string }) => {
      const { services } = await new ApiClient().get<{ services: ServiceSummary[] }>("/api/v1/services");
      const chosen = service ? services.filter((s) => s.name === service || s.name.endsWith(`/${service}`)) : services;
      if (!printStructured(flags.output, chosen)) process.stdout.write(`${chosen.length ? servicesTable(chosen) : "no services"}\n`);
    });

  program
    .command("ps")
    .description("list replicas: state, pid, ports, restarts, last exit, CPU time and memory")
    .argument("[service]", "only the replicas of this service")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (service: string | undefined, flags: { output: string }) => {
      const query = service ? `?service=${encodeURIComponent(service)}&usage=1` : "?usage=1";
      const { replicas } = await new ApiClient().get<{ replicas: ReplicaRecord[] }>(`/api/v1/replicas${query}`);
      if (!printStructured(flags.output, replicas)) process.stdout.write(`${replicas.length ? replicasTable(replicas) : "no replicas"}\n`);
    });
}
