import type { Command } from "commander";
import type { ServiceRecord } from "../../contract/index.js";
import { ApiClient, CliError, EXIT_USAGE, servicePath } from "../client.js";

export function registerScale(program: Command): void {
  program
    .command("scale")
    .description("set the number of replicas of a service (no new revision)")
    .argument("<service>", "name or namespace/name")
    .argument("<replicas>", "the new replica count, 0 or more")
    .action(async (name: string, count: string) => {
      const replicas = Number(count);
      if (!/^\d+$/.test(count) || !Number.isSafeInteger(replicas)) throw new CliError(`replicas: expected a whole number 0 or more, got "${count}"`, EXIT_USAGE);
      const { service } = await new ApiClient().post<{ service: ServiceRecord }>(`${servicePath(name)}/scale`, { replicas });
      process.stdout.write(`${service.name} scaled to ${service.replicas}\n`);
    });
}
