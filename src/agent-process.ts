/**
 * The `drover agent` process: this machine's agent (drivers, probes, router, collectors, log
 * files: the same code `drover up` runs) and its link to a server elsewhere. The only place that
 * picks concrete implementations for an agent, as daemon.ts does for a server.
 */
import fs from "node:fs";
import path from "node:path";
import { DockerDriver } from "./agent/drivers/docker/docker-driver.js";
import { ProcessDriver } from "./agent/drivers/process/process-driver.js";
import { LocalAgent } from "./agent/local-agent.js";
import { defaultAddress, defaultNodeName, nodeReport } from "./agent/node-report.js";
import { parsePortRange } from "./agent/ports.js";
import { JoinRefusedError, ServerLink } from "./agent/server-link.js";
import { HomeLockedError, lockHome } from "./store/sqlite/home-lock.js";

export interface AgentProcessOptions {
  home: string;
  servers: Array<{ host: string; port: number }>;
  joinToken?: string;
  caHash?: string;
  name?: string;
  address?: string;
  labels: Record<string, string>;
  /** What the node offers instead of what the machine has (a pool's machine type). */
  capacity?: { cpuMillis: number; memoryBytes: number; gpus: number };
}

export async function runAgent(options: AgentProcessOptions): Promise<void> {
  fs.mkdirSync(options.home, { recursive: true });
  let lock: { release(): void };
  try {
    lock = lockHome(path.join(options.home, "agent.lock"));
  } catch (error) {
    if (error instanceof HomeLockedError) throw new Error(`another drover agent is using ${options.home}`);
    throw error;
  }
  const credentialFile = path.join(options.home, "agent-credential.json");
  const saved = readSavedName(credentialFile);
  const name = saved ?? options.name ?? defaultNodeName();
  const address = options.address ?? defaultAddress();
  const log = (line: string) => process.stderr.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, node: name, msg: line })}\n`);
  const agentDir = path.join(options.home, "agent");
  const drivers = [new ProcessDriver(), await DockerDriver.open(agentDir)];
  const agent = await LocalAgent.open(agentDir, drivers, parsePortRange(process.env.DROVER_PORT_RANGE), { node: name, replicaHost: address, routerHost: process.env.DROVER_ROUTER_HOST ?? "0.0.0.0" });
  const link = new ServerLink(agent, {
    servers: options.servers,
    joinToken: options.joinToken,
    caHash: options.caHash,
    credentialFile,
    report: () => nodeReport(agent, { name, address, labels: options.labels, capacity: options.capacity }, options.home),
    log,
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`agent stopping (${why}); replicas keep running`);
    link.close();
    await agent.close();
    lock.release();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  try {
    await link.start();
  } catch (error) {
    link.close();
    await agent.close();
    lock.release();
    if (error instanceof JoinRefusedError) throw new AgentJoinError(error.message);
    throw error;
  }
  process.stdout.write(`drover agent: node ${name} at ${address}, connected (DROVER_HOME ${options.home})\n`);
}

/** The join itself was refused: bad input from the user's point of view (exit code 2). */
export class AgentJoinError extends Error {
  override readonly name = "AgentJoinError";
}

function readSavedName(file: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { node?: string }).node;
  } catch {
    return undefined;
  }
}
