import fs from "node:fs";
import type { Command } from "commander";
import { droverHome } from "../../settings.js";
import { CliError, EXIT_USAGE } from "../client.js";
import { parseCpu, parseMemory, UnitError } from "../../spec/units.js";

interface AgentFlags {
  server: string;
  token?: string;
  tokenFile?: string;
  caHash?: string;
  name?: string;
  address?: string;
  labels?: string;
  capacity?: string;
}

export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("run this machine's agent for a drover server elsewhere: it runs, probes and routes the replicas the server places here")
    .requiredOption("--server <addr[,addr...]>", "the server's cluster address(es), host:port (drover node join-token prints them)")
    .option("--token <token>", "a join token, the first time (drover node join-token)")
    .option("--token-file <file>", "read the join token from this file (kept out of the process list)")
    .option("--ca-hash <sha256:hex>", "the server's CA public key hash, checked before the token is sent")
    .option("--name <name>", "this node's name (default: the host name)")
    .option("--address <ip>", "where other nodes reach this one (default: the first non-loopback IPv4 address)")
    .option("--labels <k=v,...>", "labels for placement constraints and affinity, e.g. zone=eu,disk=ssd")
    .option("--capacity <cpu=...,memory=...,gpus=...>", "what this node offers instead of what the machine has (a node pool's machine type), e.g. cpu=2,memory=4Gi")
    .addHelpText(
      "after",
      `
The agent keeps its state in DROVER_HOME (replicas, logs, and after joining its own credential:
the token is needed only once). It dials the server (outbound only: NAT is fine), and keeps its
replicas running and routing on the last routes while the server is away. Stopping the agent
never stops its replicas; the next agent re-adopts them.

Every service port is served on this node too (the routing mesh, on DROVER_ROUTER_HOST, default
0.0.0.0): a client may use any node's address.`,
    )
    .action(async (flags: AgentFlags) => {
      const servers = flags.server.split(",").map(parseAddress);
      const labels = parseLabels(flags.labels);
      const capacity = flags.capacity === undefined ? undefined : parseCapacity(flags.capacity);
      const token = flags.tokenFile === undefined ? flags.token : readTokenFile(flags.tokenFile);
      // Loaded here: other commands do not pay for the agent's modules.
      const { AgentJoinError, runAgent } = await import("../../agent-process.js");
      try {
        await runAgent({ home: droverHome(), servers, joinToken: token, caHash: flags.caHash, name: flags.name, address: flags.address, labels, capacity });
      } catch (error) {
        if (error instanceof AgentJoinError) throw new CliError(`cannot join: ${error.message}`, EXIT_USAGE);
        throw error;
      }
    });
}

function parseAddress(text: string): { host: string; port: number } {
  const match = /^(?:https?:\/\/)?(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(text.trim());
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new CliError(`--server ${text}: expected host:port`, EXIT_USAGE);
  return { host: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]) };
}

function readTokenFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").trim() || undefined;
  } catch (error) {
    // Joined already: the token file may be gone, the saved credential is what counts.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`--token-file ${file}: ${(error as Error).message}`, EXIT_USAGE);
  }
}

function parseCapacity(text: string): { cpuMillis: number; memoryBytes: number; gpus: number } {
  const given = new Map<string, string>();
  for (const pair of text.split(",").filter(Boolean)) {
    const [key, value] = pair.split("=", 2).map((s) => s.trim());
    if (!key || !value || !["cpu", "memory", "gpus"].includes(key)) throw new CliError(`--capacity ${pair}: expected cpu=..., memory=... or gpus=...`, EXIT_USAGE);
    given.set(key, value);
  }
  if (!given.has("cpu") || !given.has("memory")) throw new CliError("--capacity needs cpu and memory (gpus is 0 unless given)", EXIT_USAGE);
  try {
    const gpus = Number(given.get("gpus") ?? 0);
    if (!Number.isInteger(gpus) || gpus < 0) throw new UnitError(`gpus must be a whole number, got ${given.get("gpus")}`);
    return { cpuMillis: parseCpu(given.get("cpu")!), memoryBytes: parseMemory(given.get("memory")!), gpus };
  } catch (error) {
    if (error instanceof UnitError) throw new CliError(`--capacity: ${error.message}`, EXIT_USAGE);
    throw error;
  }
}

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (text ?? "").split(",").filter(Boolean)) {
    const match = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$/.exec(pair.trim());
    if (!match) throw new CliError(`--labels ${pair}: expected key=value (letters, digits, '-', '_', '.')`, EXIT_USAGE);
    if (match[1]!.startsWith("drover.dev/")) throw new CliError(`--labels ${match[1]}: labels under drover.dev/ are set by the agent`, EXIT_USAGE);
    labels[match[1]!] = match[2]!;
  }
  return labels;
}
