/**
 * The `drover server` process: store, local agent and control plane wired together, with the
 * HTTP API in front. The only place that picks concrete implementations. Every server answers
 * the API; the controllers and the agents' connections follow the leader lease (several servers
 * on one PostgreSQL; a lone server on SQLite always leads).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
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
import { DEFAULT_LEASE, Leadership, type LeaseSettings } from "./server/leadership.js";
import { HomeLockedError, lockHome } from "./store/sqlite/home-lock.js";
import { isClustered, openStore } from "./store/open-store.js";
import { fencedStore } from "./store/fenced-store.js";
import type { Store } from "./store/store.js";
import { DROVER_MAIN, PACKAGE_ROOT, VERSION } from "./version.js";
import type { ClusterListener } from "./cluster/cluster-listener.js";
import { Fleet } from "./cluster/fleet.js";
import { DEFAULT_HEARTBEATS, type HeartbeatSettings } from "./cluster/node-health.js";
import type { ClusterPki } from "./cluster/pki.js";
import { defaultAddress, nodeReport } from "./agent/node-report.js";
import { serverLog } from "./server/server-log.js";

/** A server silent this long is taken off the store's list of servers. */
const FORGET_SERVER_MS = 10 * 60_000;

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
  /** A postgres:// URL (several servers on one database) or sqlite:PATH; default DROVER_HOME/drover.db. */
  store?: string;
  lease?: LeaseSettings;
}

export interface ClusterOptions {
  listen: { host: string; port: number };
  /** Where agents and other nodes reach this server and its node (default: the listen address, or the first interface address). */
  advertise?: string;
  /**
   * Whether this server runs workloads of its own. Default: yes on SQLite (in-process); on a
   * shared store no, and when asked its agent joins over the cluster port like any other.
   */
  localNode?: boolean;
  heartbeats: HeartbeatSettings;
}

export interface Daemon {
  url: string;
  controlPlane: ControlPlane;
  /** Where agents dial in, and the CA hash they pin; null without --cluster-listen. */
  cluster: { url: string; caHash: string } | null;
  leadership: Leadership;
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
  let store: Store;
  try {
    store = await openStore(options.store, options.home, secrets, (message) => serverLog("warn", message));
  } catch (error) {
    lock.release();
    throw error;
  }
  const clustered = isClustered(store);
  let ownNodeTried: () => void = () => undefined;
  const ownNodeJoined = clustered && options.cluster?.localNode ? new Promise<void>((resolve) => (ownNodeTried = resolve)) : Promise.resolve();
  const serverId = serverIdentity(options.home);
  const leadership = new Leadership(store, serverId, options.lease ?? DEFAULT_LEASE, {
    // Called only from leadership.start() on, when everything below exists.
    elected: async () => {
      await fleet.activate();
      // The server's own node (on a shared store) gets its moment to join before the first pass places anything.
      await ownNodeJoined;
      await controlPlane!.lead();
    },
    deposed: async () => {
      await controlPlane!.stepDown();
      await fleet.deactivate();
    },
    log: serverLog,
  });
  // The controllers' writes carry the lease term: a server that no longer leads writes nothing.
  const controllerStore = fencedStore(store, () => leadership.fence());
  // The fleet's first events (the local node joining) come before the control plane exists: they go to the store directly.
  let controlPlane: ControlPlane | undefined = undefined;
  const emit = (event: Parameters<Store["appendEvent"]>[0]) => (controlPlane ? controlPlane.controllerEvents.emit(event) : store.appendEvent(event));
  const fleet = await openFleet(options, store, controllerStore, clustered, emit);
  const keep = Number(process.env.DROVER_SNAPSHOTS_KEPT ?? 10);
  controlPlane = new ControlPlane(store, fleet, secrets, async () => void (await snapshotBeforeDeploy(store, options.home, keep)), () => trustedKeys(options.home), controllerStore);
  await registerHomeToken(store, ensureApiToken(options.home));
  let clusterInfo: { url: string; caHash: string } | null = null;
  const role = async () => ({ server: serverId, leading: leadership.leading, lease: await leadership.lease(), servers: await store.listServers(), store: store.description });
  const api = await buildApi(controlPlane, { home: options.home, onShutdown: options.onShutdown, tls, cluster: { info: () => clusterInfo, servers: async () => (await clusterServers(store, leadership)).all }, role });
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
    const { ensureClusterPki, interfaceAddresses, makeCa } = await import("./cluster/pki.js");
    const advertise = advertisedAddress(options.cluster);
    // On a shared store the CA is the cluster's, kept there (its key sealed): every server presents the same identity.
    const ca = clustered ? (JSON.parse(await store.ensureSetting("cluster.ca", async () => JSON.stringify(await makeCa()), { sealed: true })) as { certPem: string; keyPem: string }) : undefined;
    pki = await ensureClusterPki(path.join(options.home, "cluster"), [...interfaceAddresses(), advertise], ca);
    try {
      cluster = await ClusterListener.start({ ...options.cluster.listen, pki, fleet, store, log: serverLog, servers: () => clusterServers(store, leadership) });
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
  const startedAt = Date.now();
  const announce = async () => {
    const now = Date.now();
    await store.putServer({ id: serverId, url, clusterUrl, version: VERSION, startedAt, seenAt: now }).catch(() => undefined);
    // A server killed without a word is forgotten after a while (doctor shows it as gone until then).
    for (const server of await store.listServers().catch(() => [])) if (now - server.seenAt > FORGET_SERVER_MS) await store.deleteServer(server.id).catch(() => undefined);
  };
  await announce();
  const announcer = setInterval(() => void announce(), (options.lease ?? DEFAULT_LEASE).renewMs).unref();
  controlPlane.nodePools.use({
    joinInfo: async () => {
      if (!clusterInfo) return null;
      const servers = (await clusterServers(store, leadership)).all;
      return { servers: servers.length > 0 ? servers : [clusterInfo.url], caHash: clusterInfo.caHash };
    },
    openProvider: async (pool, clusterId) => {
      // Loaded with the first pool: a server without pools pays nothing for providers.
      const { openProvider } = await import("./cluster/pools/open-provider.js");
      return openProvider(pool.document.spec, { home: options.home, cluster: clusterId, pool: pool.name, droverCommand: [process.execPath, DROVER_MAIN], packageRoot: PACKAGE_ROOT, log: (line) => serverLog("info", line, { pool: pool.name }) });
    },
  });
  // Heard of from any server: a wake-up reaches the leader's controllers, and its fleet picks up users' changes to nodes.
  const unwatchWake = store.changes.onWake(() => void (fleet.active ? fleet.refreshUserFields().catch(() => undefined) : undefined));
  await leadership.start();
  let ownNode: { close(): Promise<void> } | null = null;
  if (clustered && options.cluster?.localNode) {
    const { startOwnNode } = await import("./own-node.js");
    const servers = [clusterUrl!, ...(await clusterServers(store, leadership)).all.filter((s) => s !== clusterUrl)];
    ownNode = await startOwnNode({ home: options.home, store, servers, caHash: pki!.caHash, caPem: pki!.caPem, address: advertisedAddress(options.cluster), log: (line) => serverLog("info", line) }).finally(ownNodeTried);
  }
  fs.writeFileSync(path.join(options.home, "server.json"), JSON.stringify({ pid: process.pid, url, startedAt, cluster: clusterUrl }));
  return {
    url,
    controlPlane,
    cluster: clusterInfo,
    leadership,
    async close() {
      clearInterval(announcer);
      unwatchWake();
      // Hands the lease over at once: the next leader need not wait for it to expire.
      await leadership.stop();
      await ownNode?.close();
      await cluster?.close();
      await api.close();
      await store.deleteServer(serverId).catch(() => undefined);
      await controlPlane.close();
      fs.rmSync(path.join(options.home, "server.json"), { force: true });
      lock.release();
    },
  };
}

/**
 * This server's name among the servers on a store, kept in its home: a server restarted after a
 * crash finds its own unexpired lease and leads again at once, rather than waiting it out.
 */
function serverIdentity(home: string): string {
  const file = path.join(home, "server.id");
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const id = `${os.hostname()}-${crypto.randomBytes(4).toString("hex")}`;
    fs.writeFileSync(file, `${id}\n`);
    return id;
  }
}

/** Every server's cluster address (for agents), and the leader's. */
async function clusterServers(store: Store, leadership: Leadership): Promise<{ all: string[]; leader: string | null }> {
  const servers = (await store.listServers()).filter((s) => s.clusterUrl);
  const lease = await leadership.lease();
  return { all: servers.map((s) => s.clusterUrl!), leader: servers.find((s) => s.id === lease?.holder)?.clusterUrl ?? null };
}

/** The fleet: this machine's own node (unless turned off) and, as they dial in, the agents of others. */
async function openFleet(options: DaemonOptions, userStore: Store, store: Store, sharedStore: boolean, emit: Parameters<typeof Fleet.open>[2]): Promise<Fleet> {
  const heartbeats = options.cluster?.heartbeats ?? DEFAULT_HEARTBEATS;
  const clustered = options.cluster !== undefined;
  // Active once this server leads (at once, for a lone server).
  const settings = { heartbeats, clustered, userStore, active: false };
  // On a shared store the workloads run on agents: a server's own node would be unmanaged whenever another server leads.
  if ((options.cluster && options.cluster.localNode === false) || sharedStore) return Fleet.open(store, null, emit, settings);
  const agentDir = path.join(options.home, "agent");
  const drivers = [new ProcessDriver(), await DockerDriver.open(agentDir)];
  // In a cluster, this node's replicas listen where the other nodes' routers reach them.
  const address = options.cluster ? advertisedAddress(options.cluster) : "127.0.0.1";
  const agent = await LocalAgent.open(agentDir, drivers, parsePortRange(process.env.DROVER_PORT_RANGE), options.cluster ? { replicaHost: address, routerHost: process.env.DROVER_ROUTER_HOST ?? "0.0.0.0" } : {});
  const report = await nodeReport(agent, { name: agent.node, address, labels: {} }, options.home);
  return Fleet.open(store, { agent, report }, emit, settings);
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

