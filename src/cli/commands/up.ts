import fs from "node:fs";
import type { Command } from "commander";
import { ApiClient, CliError, EXIT_USAGE, servicePath } from "../client.js";
import { planAndApply } from "../apply-flow.js";
import { color } from "../output.js";
import { ensureServer } from "../server-process.js";
import { servicesTable } from "../tables.js";
import { waitForReady } from "../wait.js";
import { parseDuration, UnitError } from "../../spec/units.js";

export function registerUp(program: Command): void {
  program
    .command("up")
    .description("start the server if none runs, apply descriptors and follow until every service is ready (without -f and without a drover.yaml here: the services the store has, as after drover down or a restore)")
    .option("-f, --file <path...>", "descriptor file(s) or folder(s) (default: drover.yaml)")
    .option("--timeout <duration>", "how long to wait for readiness", "2m")
    .option("--prune", "delete services of the same namespaces that the files no longer define")
    .option("-m, --message <text>", "a note stored with the new revisions")
    .action(async (flags: { file?: string[]; timeout: string; prune?: boolean; message?: string }) => {
      let timeoutMs: number;
      try {
        timeoutMs = parseDuration(flags.timeout);
      } catch (error) {
        if (error instanceof UnitError) throw new CliError(`--timeout: ${error.message}`, EXIT_USAGE);
        throw error;
      }
      const client = new ApiClient();
      await ensureServer(client, (text) => process.stderr.write(`${text}\n`));
      const stored = !flags.file && !fs.existsSync("drover.yaml");
      const applied = stored ? await startStored(client) : await planAndApply(client, { ...flags, file: flags.file ?? ["drover.yaml"], yes: true }, false);
      const names = (applied ?? []).map((s) => s.name);
      if (names.length === 0) return;
      const started = Date.now();
      const services = await waitForReady(client, names, timeoutMs);
      process.stdout.write(`${servicesTable(services)}\n`);
      process.stdout.write(`${color.green("all ready")} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    });
}

/** The services the store has, those stopped (`drover down`) started again: what `up` brings back without files. */
async function startStored(client: ApiClient): Promise<Array<{ name: string }>> {
  const { services } = await client.get<{ services: Array<{ name: string; status: string }> }>("/api/v1/services");
  for (const service of services) if (service.status === "stopped" || service.status === "stopping") await client.post(`${servicePath(service.name)}/start`);
  return services;
}
