import type { Command } from "commander";
import type { ReplicaRecord, ServiceSummary } from "../../contract/index.js";
import { ApiClient, CliError, servicePath } from "../client.js";
import { progress } from "../output.js";

export function registerDown(program: Command): void {
  program
    .command("down")
    .description("stop every service gracefully, then the server (desired state is kept; drover up brings it back)")
    .option("--timeout <seconds>", "how long to wait for replicas to stop", "60")
    .action(async (flags: { timeout: string }) => {
      const client = new ApiClient();
      if (!(await client.isUp())) {
        process.stdout.write("no drover server is running\n");
        return;
      }
      const { services } = await client.get<{ services: ServiceSummary[] }>("/api/v1/services");
      for (const service of services) await client.post(`${servicePath(service.name)}/stop`);
      const bar = progress();
      const deadline = Date.now() + Number(flags.timeout) * 1000;
      while (true) {
        const { replicas } = await client.get<{ replicas: ReplicaRecord[] }>("/api/v1/replicas");
        if (replicas.length === 0) break;
        bar.update(`stopping ${replicas.length} replica${replicas.length === 1 ? "" : "s"}`);
        if (Date.now() > deadline) {
          bar.done();
          throw new CliError(`replicas still running after ${flags.timeout}s: ${replicas.map((r) => r.id).join(", ")}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      bar.done(`stopped ${services.length} service${services.length === 1 ? "" : "s"}`);
      await client.post("/api/v1/shutdown");
      while (await client.isUp()) await new Promise((resolve) => setTimeout(resolve, 50));
      process.stdout.write("drover server stopped\n");
    });
}
