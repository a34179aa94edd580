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
}

export interface Daemon {
  url: string;
  controlPlane: ControlPlane;
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
  const agentDir = path.join(options.home, "agent");
  const drivers = [new ProcessDriver(), await DockerDriver.open(agentDir)];
  const agent = await LocalAgent.open(agentDir, drivers, parsePortRange(process.env.DROVER_PORT_RANGE));
  const keep = Number(process.env.DROVER_SNAPSHOTS_KEPT ?? 10);
  const controlPlane = new ControlPlane(store, agent, secrets, async () => void (await snapshotBeforeDeploy(store, options.home, keep)), () => trustedKeys(options.home));
  await registerHomeToken(store, ensureApiToken(options.home));
  const api = await buildApi(controlPlane, { home: options.home, onShutdown: options.onShutdown, tls });
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
  const url = `${tls ? "https" : "http"}://${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
  fs.writeFileSync(path.join(options.home, "server.json"), JSON.stringify({ pid: process.pid, url, startedAt: Date.now() }));
  return {
    url,
    controlPlane,
    async close() {
      await api.close();
      await controlPlane.close();
      fs.rmSync(path.join(options.home, "server.json"), { force: true });
      lock.release();
    },
  };
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

