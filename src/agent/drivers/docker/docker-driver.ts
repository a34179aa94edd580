/**
 * The `docker` runtime: each replica is a container on the local Docker Engine, labelled with
 * its replica and drover's home so a restarted drover re-adopts it. Its ports are published on
 * 127.0.0.1 (the node's address in a cluster, for other nodes' routers) on the host ports the agent
 * chose; probes and this node's router reach it at its own address
 * on the bridge, which fails fast when nothing listens (the engine's userland proxy behind a
 * published port accepts every connection, even to a container that is not listening yet).
 */
import os from "node:os";
import type Dockerode from "dockerode";
import { LaunchError, type Driver, type DriverHandle, type LaunchSpec, type RunningReplica } from "../driver.js";
import { containerConfig, containerName, LABELS } from "./container-config.js";
import { copyContainerLogs, lastWriteSeconds } from "./container-logs.js";
import { usageFromStats, type EngineStats } from "./container-stats.js";
import { checkEngine, dockerClient, dockerMessage, dockerStatus, type DockerClient, type EngineCheck } from "./engine.js";
import { ensureImage } from "./image.js";
import { execInContainer } from "./exec-in-container.js";
import type { Endpoint, ExitInfo, ImageRef, ProbeOutcome, ResourceUsage } from "../../../contract/index.js";

interface DockerHandle extends DriverHandle {
  runtime: "docker";
  containerId: string;
  replicaId: string;
  logFile: string;
  /** The container's ports by port name, for the endpoint after re-adoption. */
  containerPorts: Record<string, number>;
}

/** While the engine cannot be asked, how often an exit watcher tries again. */
const WAIT_RETRY_MS = 1_000;

export class DockerDriver implements Driver {
  readonly runtime = "docker";
  private readonly stopLogs = new Map<string, () => void>();

  private constructor(
    private readonly agentDir: string,
    private readonly engine: EngineCheck,
  ) {}

  /** Asks the engine once, so `doctor` can say whether containers can run here. */
  static async open(agentDir: string): Promise<DockerDriver> {
    return new DockerDriver(agentDir, await checkEngine());
  }

  where(raw: DriverHandle): string {
    const handle = raw as DockerHandle;
    return `container ${handle.containerId.slice(0, 12)} (${containerName(handle.replicaId, this.agentDir)})`;
  }

  describe(): string {
    return `docker runtime: ${this.engine.detail}`;
  }

  async prepare(image: ImageRef): Promise<void> {
    await ensureImage(await this.client(), image.image, image.pullPolicy);
  }

  async start(spec: LaunchSpec): Promise<RunningReplica> {
    const container = spec.container;
    if (!container) throw new LaunchError("runtime docker needs an image (spec.image)", 125);
    const docker = await this.client();
    // Pulled per its policy when the revision was prepared; here only if it has gone since.
    await ensureImage(docker, container.image, container.pullPolicy === "Never" ? "Never" : "IfNotPresent");
    // A restart of the replica replaces its previous container, which holds the name.
    await removeContainer(docker, containerName(spec.replicaId, this.agentDir));
    let created: Dockerode.Container;
    try {
      created = await docker.createContainer(containerConfig(spec, this.agentDir));
    } catch (error) {
      throw new LaunchError(`cannot create the container: ${dockerMessage(error)}`, 125);
    }
    try {
      await created.start();
    } catch (error) {
      await removeContainer(docker, created.id);
      const message = dockerMessage(error);
      // The OCI runtime's words for a missing or unusable program are as a shell's would be: 127 / 126.
      throw new LaunchError(`cannot start the container: ${message}`, /not found|no such file/i.test(message) ? 127 : /permission denied/i.test(message) ? 126 : 125);
    }
    const containerPorts = Object.fromEntries(container.ports.map((p) => [p.name, p.port]));
    const handle: DockerHandle = { runtime: "docker", containerId: created.id, replicaId: spec.replicaId, logFile: spec.logFile, containerPorts };
    const info = await created.inspect();
    this.followLogs(docker, handle, 0);
    return { handle, pid: info.State.Pid || null, exited: this.watchExit(docker, handle), endpoint: endpointOf(info, containerPorts) };
  }

  async adopt(raw: DriverHandle): Promise<RunningReplica | null> {
    const handle = raw as DockerHandle;
    const docker = await this.client().catch(() => null);
    if (!docker) return null;
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await docker.getContainer(handle.containerId).inspect();
    } catch {
      return null;
    }
    if (!info.State.Running || info.Config.Labels?.[LABELS.replica] !== handle.replicaId) return null;
    this.followLogs(docker, handle, lastWriteSeconds(handle.logFile));
    return { handle, pid: info.State.Pid || null, exited: this.watchExit(docker, handle), endpoint: endpointOf(info, handle.containerPorts) };
  }

  async stop(raw: DriverHandle, signal: NodeJS.Signals, gracePeriodMs: number): Promise<void> {
    const handle = raw as DockerHandle;
    const docker = await this.client();
    const container = docker.getContainer(handle.containerId);
    if (!(await signalContainer(container, signal))) return;
    if (await exitedWithin(container, gracePeriodMs)) return;
    await signalContainer(container, "SIGKILL");
    await exitedWithin(container, 10_000);
  }

  async usage(raw: DriverHandle): Promise<ResourceUsage | null> {
    const handle = raw as DockerHandle;
    try {
      const docker = await this.client();
      // one-shot: the figures now, without the engine's second sample a second later.
      const stats = (await docker.getContainer(handle.containerId).stats({ stream: false, "one-shot": true } as { stream: false })) as unknown as EngineStats;
      return usageFromStats(stats, 0);
    } catch {
      return null;
    }
  }

  async exec(raw: DriverHandle, command: string[], timeoutMs: number): Promise<ProbeOutcome> {
    const handle = raw as DockerHandle;
    return execInContainer(await this.client(), handle.containerId, command, timeoutMs);
  }

  async release(raw: DriverHandle): Promise<void> {
    const handle = raw as DockerHandle;
    this.stopLogs.get(handle.replicaId)?.();
    this.stopLogs.delete(handle.replicaId);
    if (handle.containerId) await removeContainer(await this.client(), handle.containerId);
  }

  private async client(): Promise<DockerClient> {
    if (!this.engine.available) {
      // The engine may have started since drover did: ask again before giving up.
      const now = await checkEngine();
      if (!now.available) throw new LaunchError(now.detail, 125, "runtime_unavailable");
      Object.assign(this.engine, now);
    }
    return dockerClient();
  }

  private followLogs(docker: DockerClient, handle: DockerHandle, since: number): void {
    this.stopLogs.get(handle.replicaId)?.();
    copyContainerLogs(docker, handle.containerId, handle.logFile, since).then(
      (stop) => this.stopLogs.set(handle.replicaId, stop),
      () => undefined, // the container is gone already: its exit watcher reports it
    );
  }

  /** Settles when the container has ended: its exit code, the signal behind a code above 128, OOM. */
  private watchExit(docker: DockerClient, handle: DockerHandle): Promise<ExitInfo> {
    const container = docker.getContainer(handle.containerId);
    return new Promise((resolve) => {
      const attempt = () => {
        container.wait().then(
          async () => resolve(await exitInfo(container)),
          async (error: unknown) => {
            // Gone (removed behind drover's back): only the fact of the exit is known.
            if (dockerStatus(error) === 404) return resolve({ code: null, signal: null, unknown: true, at: Date.now() });
            setTimeout(attempt, WAIT_RETRY_MS).unref();
          },
        );
      };
      attempt();
    });
  }
}

async function exitInfo(container: Dockerode.Container): Promise<ExitInfo> {
  try {
    const { State } = await container.inspect();
    const code = State.ExitCode;
    return { code, signal: code > 128 ? signalName(code - 128) : null, oomKilled: State.OOMKilled, at: Date.now() };
  } catch {
    return { code: null, signal: null, unknown: true, at: Date.now() };
  }
}

function signalName(number: number): string | null {
  return Object.entries(os.constants.signals).find(([, n]) => n === number)?.[0] ?? null;
}

/** Where the container is reached from this machine: its address on its (first) network. */
function endpointOf(info: Dockerode.ContainerInspectInfo, ports: Record<string, number>): Endpoint | undefined {
  const host = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  return host ? { host, ports } : undefined;
}

/** False when the container was not running (nothing to stop). */
async function signalContainer(container: Dockerode.Container, signal: NodeJS.Signals): Promise<boolean> {
  try {
    await container.kill({ signal });
    return true;
  } catch (error) {
    if (dockerStatus(error) === 404 || dockerStatus(error) === 409) return false;
    throw error;
  }
}

async function exitedWithin(container: Dockerode.Container, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const ended = container.wait().then(
    () => true,
    () => true,
  );
  const result = await Promise.race([ended, timeout]);
  clearTimeout(timer);
  return result;
}

async function removeContainer(docker: DockerClient, idOrName: string): Promise<void> {
  try {
    await docker.getContainer(idOrName).remove({ force: true, v: true });
  } catch (error) {
    if (dockerStatus(error) !== 404) throw new LaunchError(`cannot remove container ${idOrName}: ${dockerMessage(error)}`, 125);
  }
}
