import type { Command } from "commander";
import { ApiClient, CliError, EXIT_USAGE, servicePath } from "../client.js";

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("print the output (stdout and stderr) of a service's replicas, or of one replica")
    .argument("<target>", "SERVICE or SERVICE/REPLICA (SERVICE may be namespace/name)")
    .option("-f, --follow", "keep printing new output")
    .option("-n, --tail <lines>", "lines from the end of each replica's log", "100")
    .action(async (target: string, flags: { follow?: boolean; tail: string }) => {
      const tail = Number(flags.tail);
      if (!Number.isInteger(tail) || tail < 0) throw new CliError("--tail: expected a whole number", EXIT_USAGE);
      const client = new ApiClient();
      const query = `tail=${tail}&follow=${flags.follow ? 1 : 0}`;
      const attempts = [{ service: target, replica: undefined as string | undefined }];
      const slash = target.lastIndexOf("/");
      if (slash > 0) attempts.push({ service: target.slice(0, slash), replica: target.slice(slash + 1) });
      let lastError: unknown;
      for (const { service, replica } of attempts) {
        try {
          const response = await client.stream(`${servicePath(service)}/logs?${query}${replica ? `&replica=${encodeURIComponent(replica)}` : ""}`);
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(chunk);
          return;
        } catch (error) {
          lastError = error;
          if (!(error instanceof CliError) || error.exitCode !== EXIT_USAGE) throw error;
        }
      }
      throw lastError;
    });
}
