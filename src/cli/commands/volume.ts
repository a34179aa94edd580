/** `drover volume ls|rm`: node-local volumes (spec.volumes of a service), where each is and what it holds. */
import type { Command } from "commander";
import type { VolumeRecord, VolumeView } from "../../contract/index.js";
import { ApiClient } from "../client.js";
import { age, color, memory, printStructured, table } from "../output.js";

export function registerVolume(program: Command): void {
  const volume = program.command("volume").description("node-local volumes: kept across restarts, rollouts and drover restarts until removed here (or with delete --volumes)");

  volume
    .command("ls")
    .description("list volumes: service, node, size declared and used, the replicas using it")
    .option("-s, --service <service>", "only this service's")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { service?: string; output: string }) => {
      const query = flags.service ? `?service=${encodeURIComponent(flags.service)}` : "";
      const { volumes } = await new ApiClient().get<{ volumes: VolumeView[] }>(`/api/v1/volumes${query}`);
      if (printStructured(flags.output, volumes)) return;
      if (volumes.length === 0) return void process.stdout.write("no volumes\n");
      const rows = volumes.map((v) => {
        const over = v.size !== null && v.usedBytes !== null && v.usedBytes > v.size;
        const used = v.usedBytes === null ? "?" : memory(v.usedBytes);
        return [v.key, v.service, v.node, v.size === null ? "-" : memory(v.size), over ? color.red(`${used} (over)`) : used, v.usedBy.join(",") || color.dim("unused"), age(v.createdAt)];
      });
      process.stdout.write(`${table(["VOLUME", "SERVICE", "NODE", "SIZE", "USED", "USED BY", "AGE"], rows)}\n`);
    });

  volume
    .command("rm")
    .description("remove a volume and its data, from its node; refused while a replica uses it")
    .argument("<volume>", "namespace/service/name, as drover volume ls shows it")
    .action(async (key: string) => {
      const { volume: removed } = await new ApiClient().delete<{ volume: VolumeRecord }>(`/api/v1/volumes/${encodeURIComponent(key)}`);
      process.stdout.write(`volume ${removed.key} removed from node ${removed.node}\n`);
    });
}

/** `delete --volumes`: once the service is gone (its replicas stopped), its volumes go too. */
export async function removeServiceVolumes(client: ApiClient, service: string, servicePath: string, timeoutMs: number): Promise<void> {
  const { volumes } = await client.get<{ volumes: VolumeView[] }>(`/api/v1/volumes?service=${encodeURIComponent(service)}`);
  if (volumes.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = await client.get(servicePath).then(() => false, () => true);
    if (gone) break;
    if (Date.now() > deadline) {
      process.stdout.write(`${service}: still stopping after ${timeoutMs / 1000}s; its volumes are kept (remove them with drover volume rm once it is gone: ${volumes.map((v) => v.key).join(", ")})\n`);
      process.exitCode = 1;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  for (const v of volumes) {
    await client.delete(`/api/v1/volumes/${encodeURIComponent(v.key)}`);
    process.stdout.write(`volume ${v.key} removed from node ${v.node}\n`);
  }
}
