/** stop, start, restart and delete: one verb each on one service, the same shape. */
import type { Command } from "commander";
import { ApiClient, servicePath } from "../client.js";
import { removeServiceVolumes } from "./volume.js";

const VERBS = [
  { name: "stop", method: "post", path: "/stop", done: "stopping", help: "stop every replica of a service gracefully; its desired state is kept (drover start brings it back)" },
  { name: "start", method: "post", path: "/start", done: "starting", help: "start a stopped service again" },
  { name: "restart", method: "post", path: "/restart", done: "restarting (rolling: a new revision replaces replicas as they become ready)", help: "replace every replica of a service, new ones first, as a new revision" },
  { name: "delete", method: "delete", path: "", done: "deleting (replicas stop gracefully, then the service and its history go)", help: "stop every replica of a service and remove it" },
] as const;

export function registerLifecycle(program: Command): void {
  for (const verb of VERBS) {
    const command = program
      .command(verb.name)
      .description(verb.help)
      .argument("<service>", "name or namespace/name");
    if (verb.method === "delete") command.option("--volumes", "also remove its volumes and their data, once its replicas have stopped (it waits for that)");
    command.action(async (name: string, flags: { volumes?: boolean }) => {
      const client = new ApiClient();
      const path = `${servicePath(name)}${verb.path}`;
      if (verb.method === "delete") await client.delete(path);
      else await client.post(path);
      process.stdout.write(`${name}: ${verb.done}\n`);
      if (flags.volumes) await removeServiceVolumes(client, name, servicePath(name), 300_000);
    });
  }
}
