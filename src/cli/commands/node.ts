import type { Command } from "commander";
import type { NodeView, ReplicaRecord } from "../../contract/index.js";
import { ApiClient, CliError, EXIT_USAGE } from "../client.js";
import { age, color, memory, printStructured } from "../output.js";
import { nodesTable, nodeStatus, replicasTable } from "../tables.js";

const path = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

export function registerNode(program: Command): void {
  const node = program.command("node").description("the machines drover runs on: list, describe, cordon, drain, label, remove; join tokens for new ones");

  node
    .command("ls")
    .description("list nodes: state, heartbeat, replicas, requested/allocatable CPU and memory, GPUs, power")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (flags: { output: string }) => {
      const { nodes } = await new ApiClient().get<{ nodes: NodeView[] }>("/api/v1/nodes");
      if (!printStructured(flags.output, nodes)) process.stdout.write(`${nodes.length ? nodesTable(nodes) : "no nodes"}\n`);
    });

  node
    .command("describe")
    .description("one node: state and why, capacity, labels, energy, and its replicas")
    .argument("<name>")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (name: string, flags: { output: string }) => {
      const answer = await new ApiClient().get<{ node: NodeView; replicas: ReplicaRecord[] }>(path(name));
      if (!printStructured(flags.output, answer)) process.stdout.write(describeNode(answer.node, answer.replicas));
    });

  for (const [action, description] of [
    ["cordon", "take no new replicas on the node (what it runs stays)"],
    ["uncordon", "let the node take new replicas again"],
    ["drain", "move every replica off the node with its service's rollout rules (new ones first), then leave it cordoned"],
  ] as const) {
    node
      .command(action)
      .description(description)
      .argument("<name>")
      .action(async (name: string) => {
        const { node: updated } = await new ApiClient().post<{ node: NodeView }>(`${path(name)}/${action}`, {});
        process.stdout.write(`node ${updated.name}: ${nodeStatus(updated)}${action === "drain" ? ` (${updated.replicas} replica(s) to move; watch with drover node ls)` : ""}\n`);
      });
  }

  node
    .command("label")
    .description("set labels on a node (KEY=VALUE), or remove them (KEY-), for placement constraints and affinity")
    .argument("<name>")
    .argument("<labels...>", "KEY=VALUE to set, KEY- to remove")
    .action(async (name: string, args: string[]) => {
      const labels: Record<string, string | null> = {};
      for (const arg of args) {
        const set = /^([^=\s]+)=(.*)$/.exec(arg);
        const unset = /^([^=\s]+)-$/.exec(arg);
        if (set) labels[set[1]!] = set[2]!;
        else if (unset) labels[unset[1]!] = null;
        else throw new CliError(`label "${arg}": expected KEY=VALUE or KEY-`, EXIT_USAGE);
      }
      const { node: updated } = await new ApiClient().post<{ node: NodeView }>(`${path(name)}/labels`, { labels });
      process.stdout.write(`node ${updated.name}: ${Object.entries(updated.labels).filter(([k]) => !k.startsWith("drover.dev/")).map(([k, v]) => `${k}=${v}`).join(" ") || "no labels"}\n`);
    });

  node
    .command("rm")
    .description("forget a node: its credential stops working at once (its agent is refused); its replicas are replaced elsewhere")
    .argument("<name>")
    .action(async (name: string) => {
      await new ApiClient().delete(path(name));
      process.stdout.write(`node ${name} removed; its credential is revoked\n`);
    });

  node
    .command("join-token")
    .description("print a short-lived join token and the drover agent line to run on a new machine")
    .option("--ttl <lifetime>", "how long the token joins nodes, e.g. 90s, 30m, 1h, 2d", "1h")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .action(async (flags: { ttl: string; output: string }) => {
      const answer = await new ApiClient().post<{ token: string; expiresAt: number; command: string }>("/api/v1/nodes/join-tokens", { ttl: flags.ttl });
      if (printStructured(flags.output, answer)) return;
      process.stdout.write(`Run on each new machine (the token joins nodes until ${new Date(answer.expiresAt).toISOString()}):\n\n  ${answer.command}\n\n`);
      process.stdout.write(`Add --name NAME, --address IP (where other nodes reach it) and --labels k=v,... as needed.\n`);
    });
}

function describeNode(node: NodeView, replicas: ReplicaRecord[]): string {
  const gib = (bytes: number) => memory(bytes);
  const lines = [
    `Name:          ${node.name}`,
    `State:         ${nodeStatus(node)} since ${age(node.stateSince)} (${node.stateReason})`,
    `Address:       ${node.address}`,
    `Agent:         ${node.connected ? "connected" : color.yellow("not connected")}, version ${node.agentVersion}, last heartbeat ${node.heartbeatAgeMs === null ? "never" : `${(node.heartbeatAgeMs / 1000).toFixed(1)}s ago`}`,
    `Joined:        ${new Date(node.joinedAt).toISOString()}`,
    `Runtimes:      ${node.runtimes.join(", ")}`,
    `Capacity:      cpu ${node.capacity.cpuMillis}m, memory ${gib(node.capacity.memoryBytes)}, gpus ${node.capacity.gpus}${node.gpuModel ? ` (${node.gpuModel})` : ""}, disk ${gib(node.capacity.diskBytes)}`,
    `Allocatable:   cpu ${node.allocatable.cpuMillis}m, memory ${gib(node.allocatable.memoryBytes)}, gpus ${node.allocatable.gpus}`,
    `Requested:     cpu ${node.requested.cpuMillis}m, memory ${gib(node.requested.memoryBytes)}, gpus ${node.requested.gpus}`,
    `Energy:        ${node.energy.wattsPerCore.toFixed(2)} W per busy core, ${node.energy.idleWatts.toFixed(1)} W idle (${node.energy.source})${node.watts === null ? "" : `; now ${node.watts.toFixed(1)} W`}`,
    `Free ports:    ${node.freePorts}`,
    `Labels:        ${Object.entries(node.labels).map(([k, v]) => `${k}=${v}`).join(", ") || "-"}`,
    "",
    replicas.length ? replicasTable(replicas) : "no replicas",
    "",
  ];
  return lines.join("\n");
}
