/** `drover pool ls|describe|scale`: node pools (kind: NodePool, applied like any descriptor) and their instances. */
import type { Command } from "commander";
import type { InstanceView, PoolView } from "../../contract/index.js";
import { ApiClient, CliError, EXIT_USAGE } from "../client.js";
import { age, color, memory, printStructured, statusColor, table } from "../output.js";

const path = (name: string) => `/api/v1/pools/${encodeURIComponent(name)}`;

export function registerPool(program: Command): void {
  const pool = program.command("pool").description("node pools: nodes drover brings from a provider (local namespaces, SSH hosts, a program) and takes away, by load or by hand");

  pool
    .command("ls")
    .description("list pools: provider, machine, min/desired/max, instances by state, and any problem")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { output: string }) => {
      const { pools } = await new ApiClient().get<{ pools: PoolView[] }>("/api/v1/pools");
      if (printStructured(flags.output, pools)) return;
      if (pools.length === 0) return void process.stdout.write("no node pools (apply a kind: NodePool descriptor)\n");
      const rows = pools.map((p) => [p.name, p.provider, p.machineName, `${p.min}/${p.desired}/${p.max}`, instanceCounts(p), p.autoscale ? (p.consolidation ? "yes, consolidating" : "yes") : "no", p.deleting ? color.yellow("being removed") : p.problem ? color.red(p.problem) : ""]);
      process.stdout.write(`${table(["NAME", "PROVIDER", "MACHINE", "MIN/DESIRED/MAX", "INSTANCES", "AUTOSCALE", "PROBLEM"], rows)}\n`);
    });

  pool
    .command("describe")
    .description("one pool: its settings, machine, and every instance with its node and lifecycle history (time and reason of each step)")
    .argument("<name>")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, flags: { output: string }) => {
      const { pool: view } = await new ApiClient().get<{ pool: PoolView }>(path(name));
      if (!printStructured(flags.output, view)) process.stdout.write(describePool(view));
    });

  pool
    .command("rm")
    .description("remove a pool: its nodes are drained (replicas replaced elsewhere first) and terminated at the provider, then the pool goes")
    .argument("<name>")
    .action(async (name: string) => {
      const { pool: view } = await new ApiClient().delete<{ pool: PoolView }>(path(name));
      process.stdout.write(`pool ${name}: removing ${live(view)} instance(s), then the pool (watch with drover pool describe ${name})\n`);
    });

  pool
    .command("scale")
    .description("set how many nodes the pool should have, between its min and max (the cluster autoscaler, where on, may change it later as load asks)")
    .argument("<name>")
    .argument("<nodes>", "the number of nodes")
    .action(async (name: string, nodes: string) => {
      if (!/^\d+$/.test(nodes)) throw new CliError(`nodes: expected a whole number, got "${nodes}"`, EXIT_USAGE);
      const { pool: view } = await new ApiClient().post<{ pool: PoolView }>(`${path(name)}/scale`, { desired: Number(nodes) });
      process.stdout.write(`pool ${view.name}: ${view.desired} node(s) asked for; now ${instanceCounts(view)} (watch with drover pool describe ${view.name})\n`);
    });
}

function live(pool: PoolView): number {
  return pool.instances.filter((i) => !["terminated", "failed", "archived"].includes(i.state)).length;
}

function instanceCounts(pool: PoolView): string {
  const entries = Object.entries(pool.counts).filter(([state]) => state !== "archived");
  return entries.length ? entries.map(([state, n]) => `${n} ${statusColor(state)}`).join(", ") : "none";
}

function describePool(pool: PoolView): string {
  const machine = pool.machine ? `${pool.machine.name}: ${pool.machine.cpu}m CPU, ${memory(pool.machine.memory)}${pool.machine.gpus ? `, ${pool.machine.gpus} GPU${pool.machine.gpu_model ? ` (${pool.machine.gpu_model})` : ""}` : ""}, $${pool.machine.hourly_cost.toFixed(3)}/h, ${pool.machine.watts} W` : pool.machineName;
  const lines = [
    `Name:        ${pool.name}`,
    `Provider:    ${pool.provider}`,
    `Machine:     ${machine}`,
    `Size:        min ${pool.min}, desired ${pool.desired}, max ${pool.max}`,
    `Autoscale:   ${pool.autoscale ? `yes, by ${pool.optimize}${pool.consolidation ? ", with consolidation" : ""}` : "no (drover pool scale only)"}`,
    `Problem:     ${pool.problem ? color.red(pool.problem) : "none"}`,
    ...(pool.deleting ? [`Removing:    yes (drover pool rm): instances are drained and terminated, then the pool goes`] : []),
    "",
  ];
  if (pool.instances.length === 0) return `${lines.join("\n")}No instances.\n`;
  lines.push(table(["INSTANCE", "STATE", "SINCE", "ADDRESS", "NODE", "REPLICAS", "REASON"], pool.instances.map((i) => [i.id, statusColor(i.state), age(i.stateSince), i.address ?? "-", i.nodeState ?? "-", String(i.replicas), i.stateReason])));
  lines.push("", "History:");
  for (const instance of pool.instances) lines.push(...history(instance));
  return `${lines.join("\n")}\n`;
}

function history(instance: InstanceView): string[] {
  return instance.history.map((t) => `  ${new Date(t.at).toISOString()}  ${instance.id}  ${t.from ?? "-"} → ${t.to}: ${t.reason}`);
}
