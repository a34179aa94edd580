/**
 * A server's own node on a shared store (`drover server --local-node` with PostgreSQL): its agent
 * runs in the server's process but joins as any agent does, over the cluster port, so whichever
 * server leads manages it — this one or another — and it keeps running and routing while the
 * leader changes. The join token is made directly in the store; the credential is kept in the
 * server's home as `drover agent` keeps its own.
 */
import fs from "node:fs";
import path from "node:path";
import { DockerDriver } from "./agent/drivers/docker/docker-driver.js";
import { ProcessDriver } from "./agent/drivers/process/process-driver.js";
import { LocalAgent } from "./agent/local-agent.js";
import { nodeReport } from "./agent/node-report.js";
import { parsePortRange } from "./agent/ports.js";
import { ServerLink } from "./agent/server-link.js";
import { createJoinToken, newNodeCredential } from "./cluster/join-tokens.js";
import type { Store } from "./store/store.js";

const JOIN_TTL_MS = 10 * 60_000;
const JOIN_WAIT_MS = 5_000;

export interface OwnNodeOptions {
  home: string;
  store: Store;
  /** This server's agent address first, then the others'. */
  servers: string[];
  caHash: string;
  caPem: string;
  /** Where other nodes reach this node's replicas. */
  address: string;
  log: (line: string) => void;
}

export async function startOwnNode(options: OwnNodeOptions): Promise<{ agent: LocalAgent; close(): Promise<void> }> {
  const agentDir = path.join(options.home, "agent");
  const drivers = [new ProcessDriver(), await DockerDriver.open(agentDir)];
  const agent = await LocalAgent.open(agentDir, drivers, parsePortRange(process.env.DROVER_PORT_RANGE), { replicaHost: options.address, routerHost: process.env.DROVER_ROUTER_HOST ?? "0.0.0.0" });
  const credentialFile = path.join(options.home, "agent-credential.json");
  const token = fs.existsSync(credentialFile) ? undefined : await firstCredential(options, agent.node, credentialFile);
  const link = new ServerLink(agent, {
    servers: options.servers.map((address) => {
      const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address)!;
      return { host: match[1]!, port: Number(match[2]) };
    }),
    // Used only while the home holds no credential yet.
    joinToken: token,
    caHash: options.caHash,
    credentialFile,
    report: () => nodeReport(agent, { name: agent.node, address: options.address, labels: {} }, options.home),
    log: options.log,
  });
  // The node joins when a leader welcomes it: at once when one leads (this server or another),
  // else when one is elected; the server does not wait longer than a moment for it.
  const joined = link.start().then(
    () => true,
    (error: Error) => (options.log(`this server's own node cannot join: ${error.message}`), false),
  );
  await Promise.race([joined, new Promise((resolve) => setTimeout(resolve, JOIN_WAIT_MS).unref())]);
  return {
    agent,
    async close() {
      link.close();
      await agent.close();
    },
  };
}

/**
 * How this home's node proves itself the first time. A node of this name known to the store
 * already (a server of this machine before, or a restored backup) is this machine's: it is given
 * a new credential, written into the home at once. Otherwise a join token registers it.
 */
async function firstCredential(options: OwnNodeOptions, node: string, credentialFile: string): Promise<string | undefined> {
  const known = await options.store.getNode(node);
  if (!known) return (await createJoinToken(options.store, JOIN_TTL_MS, `server's own node ${node}`)).token;
  const { credential, hash } = newNodeCredential();
  await options.store.putNode({ ...known, credentialHash: hash, updatedAt: Date.now() });
  fs.writeFileSync(credentialFile, JSON.stringify({ node, credential, caPem: options.caPem, servers: options.servers }), { mode: 0o600 });
  return undefined;
}
