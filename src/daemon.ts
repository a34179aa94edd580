/**
 * The `drover server` process: store, local agent and control plane wired together, with the
 * HTTP API in front. The only place that picks concrete implementations.
 */
import fs from "node:fs";
import path from "node:path";
import { buildApi } from "./api/app.js";
import { ProcessDriver } from "./agent/drivers/process/process-driver.js";
import { LocalAgent } from "./agent/local-agent.js";
import { parsePortRange } from "./agent/ports.js";
import { ControlPlane } from "./server/control-plane.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";

export interface DaemonOptions {
  home: string;
  host: string;
  port: number;
  /** Called when a client asks the server to stop (`drover down`). */
  onShutdown?: () => void;
}

export interface Daemon {
  url: string;
  controlPlane: ControlPlane;
  close(): Promise<void>;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  fs.mkdirSync(options.home, { recursive: true });
  const store = new SqliteStore(path.join(options.home, "drover.db"));
  const agent = await LocalAgent.open(path.join(options.home, "agent"), [new ProcessDriver()], parsePortRange(process.env.DROVER_PORT_RANGE));
  const controlPlane = new ControlPlane(store, agent);
  await controlPlane.start();
  const api = await buildApi(controlPlane, { home: options.home, onShutdown: options.onShutdown });
  try {
    await api.listen({ host: options.host, port: options.port });
  } catch (error) {
    await controlPlane.close();
    throw error;
  }
  const url = `http://${options.host}:${options.port}`;
  fs.writeFileSync(path.join(options.home, "server.json"), JSON.stringify({ pid: process.pid, url, startedAt: Date.now() }));
  return {
    url,
    controlPlane,
    async close() {
      await api.close();
      await controlPlane.close();
      fs.rmSync(path.join(options.home, "server.json"), { force: true });
    },
  };
}
