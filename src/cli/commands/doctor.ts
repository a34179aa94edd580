import type { Command } from "commander";
import type { AgentInfo } from "../../agent/node-agent.js";
import { droverHome } from "../../settings.js";
import { ApiClient } from "../client.js";
import { color } from "../output.js";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check the set-up: server, state folder, runtimes and what this machine allows (cgroups)")
    .action(async () => {
      const client = new ApiClient();
      const say = (ok: boolean, text: string) => process.stdout.write(`${ok ? color.green("✓") : color.yellow("!")} ${text}\n`);
      say(Number(process.versions.node.split(".")[0]) >= 20, `Node.js ${process.versions.node}`);
      say(true, `DROVER_HOME ${droverHome()}`);
      const up = await client.isUp();
      if (!up) {
        say(false, `no server at ${client.baseUrl}; "drover up" or "drover server" starts one`);
        return;
      }
      say(true, `server pid ${up.pid} at ${client.baseUrl}`);
      const { agent } = await client.get<{ agent: AgentInfo }>("/api/v1/info");
      for (const detail of agent.details) say(!/not enforced|not available|not writable/.test(detail), detail);
    });
}
