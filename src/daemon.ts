/**
 * The `drover server` process: store, local agent and control plane wired together, with the
 * HTTP API in front. The only place that picks concrete implementations.
 */
import fs from "node:fs";
import path from "node:path";
import { buildApi } from "./api/app.js";
import { isLoopback } from "./settings.js";
import { DockerDriver } from "./agent/drivers/docker/docker-driver.js";
import { ProcessDriver } from "./agent/drivers/process/process-driver.js";
import { LocalAgent } from "./agent/local-agent.js";
import { parsePortRange } from "./agent/ports.js";
import { ensureApiToken, registerHomeToken } from "./security/api-token.js";
import { SecretBox } from "./security/secret-box.js";
import { snapshotBeforeDeploy } from "./security/backup.js";
import { trustedKeys } from "./security/signatures.js";
import { ControlPlane } from "./server/control-plane.js";
import { HomeLockedError, lockHome } from "./store/sqlite/home-lock.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { ClusterListener } from "./cluster/cluster-listener.js";
import { Fleet } from "./cluster/fleet.js";
import { DEFAULT_HEARTBEATS, type HeartbeatSettings } from "./cluster/node-health.js";
import type { ClusterPki } from "./cluster/pki.js";
import { defaultAddress, nodeReport } from "./agent/node-report.js";
import { serverLog } from "./server/server-log.js";

export interface DaemonOptions {
  home: string;
  host: string;
  port: number;
  /** Called when a client asks the server to stop (`drover down`). */
  onShutdown?: () => void;
  /** PEM files: the API speaks HTTPS with them. */
  tls?: { cert: string; key: string };
  /** Allows plain HTTP on an address other machines can reach. */
  insecure?: boolean;
  /** Accept agents of other nodes here (TLS with the cluster's own CA). */
  cluster?: ClusterOptions;
}

export interface ClusterOptions {
  listen: { host: string; port: number };
  /** Where agents and other nodes reach this server and its node (default: the listen address, or the first interface address). */
  advertise?: string;
  /** False: this server runs no workloads of its own (a control plane only). */
  localNode: boolean;
  heartbeats: HeartbeatSettings;
}

export interface Daemon {
  url: string;
  controlPlane: ControlPlane;
  /** Where agents dial in, and the CA hash they pin; null without --cluster-listen. */
  cluster: { url: string; caHash: string } | null;
  close(): Promise<void>;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  if (!isLoopback(options.host) && !options.tls && !options.insecure) {
    throw new Error(`listening on ${options.host} lets other machines reach the API: give it TLS (--tls-cert and --tls-key, or DROVER_TLS_CERT and DROVER_TLS_KEY), or pass --insecure to accept plain HTTP`);
  }
  const tls = options.tls && { cert: readPem(options.tls.cert, "certificate"), key: readPem(options.tls.key, "key") };
  fs.mkdirSync(options.home, { recursive: true });
  let lock: { release(): void };
  try {
    lock = lockHome(path.join(options.home, "server.lock"));
  } catch (error) {
    if (!(error instanceof HomeLockedError)) throw error;
    const running = readServerInfo(options.home);
    throw new Error(`${error.message} (${options.home}${running ? `, pid ${running.pid} at ${running.url}` : ""})`);
  }
  const secrets = SecretBox.open(options.home);
  const store = new SqliteStore(path.join(options.home, "drover.db"), Date.now, secrets);
  // The fleet's first events (the local node joining) come before the control plane exists: they go to the store directly.
  let controlPlane: ControlPlane | undefined = undefined;
  const fleet = await openFleet(options, store, (event) => (controlPlane ? controlPlane.events.emit(event) : store.appendEvent(event)));
  const keep = Number(process.env.DROVER_SNAPSHOTS_KEPT ?? 10);
  controlPlane = new ControlPlane(store, fleet, secrets, async () => void (await snapshotBeforeDeploy(store, options.home, keep)), () => trustedKeys(options.home));
  await registerHomeToken(store, ensureApiToken(options.home));
  let clusterInfo: { url: string; caHash: string } | null = null;
  const api = await buildApi(controlPlane, { home: options.home, onShutdown: options.onShutdown, tls, cluster: { info: () => clusterInfo } });
  try {
    // Listen before reconciling: a server that cannot serve its API must not touch workloads.
    await api.listen({ host: options.host, port: options.port });
  } catch (error) {
    await controlPlane.close();
    lock.release();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new Error(`${options.host}:${options.port} is already in use (another drover server? set DROVER_ADDR to another address)`);
    throw error;
  }
  await controlPlane.start();
  let cluster: ClusterListener | null = null;
  let pki: ClusterPki | null = null;
  if (options.cluster) {
    // Loaded only to accept agents: TLS and the certificate writer cost a single machine nothing.
    const { ClusterListener } = await import("./cluster/cluster-listener.js");
    const { ensureClusterPki, interfaceAddresses } = await import("./cluster/pki.js");
    const advertise = advertisedAddress(options.cluster);
    pki = await ensureClusterPki(path.join(options.home, "cluster"), [...interfaceAddresses(), advertise]);
    try {
      cluster = await ClusterListener.start({ ...options.cluster.listen, pki, fleet, store, log: serverLog });
    } catch (error) {
      await api.close();
      await controlPlane.close();
      lock.release();
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`cannot accept agents on ${options.cluster.listen.host}:${options.cluster.listen.port}: ${code === "EADDRINUSE" ? "the address is in use" : (error as Error).message}`);
    }
  }
  const url = `${tls ? "https" : "http"}://${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
  const clusterUrl = cluster && options.cluster ? `${bracket(advertisedAddress(options.cluster))}:${cluster.address.port}` : null;
  clusterInfo = clusterUrl && pki ? { url: clusterUrl, caHash: pki.caHash } : null;
  fs.writeFileSync(path.join(options.home, "server.json"), JSON.stringify({ pid: process.pid, url, startedAt: Date.now(), cluster: clusterUrl }));
  return {
    url,
    controlPlane,
    cluster: clusterInfo,
    async close() {
      await cluster?.close();
      await api.close();
      await controlPlane.close();
      fs.rmSync(path.join(options.home, "server.json"), { force: true });
      lock.release();
    },
  };
}

/** The fleet: this machine's own node (unless turned off) and, as they dial in, the agents of others. */
async function openFleet(options: DaemonOptions, store: SqliteStore, emit: Parameters<typeof Fleet.open>[2]): Promise<Fleet> {
  const heartbeats = options.cluster?.heartbeats ?? DEFAULT_HEARTBEATS;
  const clustered = options.cluster !== undefined;
  if (options.cluster && !options.cluster.localNode) return Fleet.open(store, null, emit, { heartbeats, clustered });
  const agentDir = path.join(options.home, "agent");
  const drivers = [new ProcessDriver(), await DockerDriver.open(agentDir)];
  // In a cluster, this node's replicas listen where the other nodes' routers reach them.
  const address = options.cluster ? advertisedAddress(options.cluster) : "127.0.0.1";
  const agent = await LocalAgent.open(agentDir, drivers, parsePortRange(process.env.DROVER_PORT_RANGE), options.cluster ? { replicaHost: address, routerHost: process.env.DROVER_ROUTER_HOST ?? "0.0.0.0" } : {});
  const report = await nodeReport(agent, { name: agent.node, address, labels: {} }, options.home);
  return Fleet.open(store, { agent, report }, emit, { heartbeats, clustered });
}

function advertisedAddress(cluster: ClusterOptions): string {
  if (cluster.advertise) return cluster.advertise;
  const host = cluster.listen.host;
  return host === "0.0.0.0" || host === "::" ? defaultAddress() : host;
}

function bracket(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function readServerInfo(home: string): { pid: number; url: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, "server.json"), "utf8")) as { pid: number; url: string };
  } catch {
    return undefined;
  }
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

