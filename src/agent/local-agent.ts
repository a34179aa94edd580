/**
 * The agent for this machine: starts replicas through drivers, gives them ports and log files,
 * notices when they become ready or end, and keeps a small state file per replica so that a new
 * drover process re-adopts what the previous one started.
 */
import fs from "node:fs";
import path from "node:path";
import type { Driver, DriverHandle } from "./drivers/driver.js";
import { LaunchError } from "./drivers/driver.js";
import { removeStagedFiles, stageFiles } from "./mounted-files.js";
import { followFile, rotateIfLarge, tailLines } from "./log-files.js";
import { isFree, PortAllocator, type PortRange } from "./ports.js";
import { resolveBuiltin } from "./builtins.js";
import { ensureVolume, removeVolume, volumeBytes, volumeEnv } from "./volumes.js";
import { listeningPorts, whenListening } from "./probes/listen-watch.js";
import { ReplicaHealth } from "./probes/replica-health.js";
import { KernelTcp } from "./router/kernel-tcp.js";
import { Router, routerHost } from "./router/router.js";
import { MetricsSampler } from "./metrics/sampler.js";
import type { AgentInfo, BackendTarget, ExitInfo, HealthDefinition, ImageRef, MetricsSnapshot, NodeAgent, ProbeReport, ReplicaLaunch, ReplicaStatus, ResourceUsage, Route, RouteStatus, ServiceTraffic } from "../contract/index.js";

interface Entry {
  status: ReplicaStatus;
  /** Being stopped: takes no new connections. */
  draining?: boolean;
  handle: DriverHandle | null;
  /** Bumped on every start, so watchers of an earlier run of the same replica stand down. */
  generation: number;
  definition: HealthDefinition;
  /** Present while the replica runs. */
  health?: ReplicaHealth;
}

interface StateFile {
  status: ReplicaStatus;
  handle: DriverHandle | null;
  /** The probes, so a drover that re-adopts the replica probes it as before. */
  health?: HealthDefinition;
}

const LOG_ROTATE_CHECK_MS = 10_000;

export interface LocalAgentOptions {
  /** The node's name in the cluster ("local" for `drover up`). */
  node?: string;
  /** Where replicas listen and are reached (HOST in their environment); 127.0.0.1 alone on one machine. */
  replicaHost?: string;
  /** Where service ports listen (default DROVER_ROUTER_HOST or 127.0.0.1). */
  routerHost?: string;
}

export class LocalAgent implements NodeAgent {
  readonly node: string;
  readonly replicaHost: string;
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(status: ReplicaStatus) => void>();
  private readonly ports: PortAllocator;
  private readonly rotation: NodeJS.Timeout;
  private readonly router: Router;
  private closed = false;
  private readonly targetCache = new Map<string, BackendTarget[]>();
  /** Per service port: ready replicas on other nodes, from the server's last routes (kept while it is away). */
  private remoteTargets = new Map<string, BackendTarget[]>();

  private readonly routerDetail: string;
  private readonly sampler: MetricsSampler;

  private constructor(
    private readonly dir: string,
    private readonly drivers: Map<string, Driver>,
    readonly portRange: PortRange,
    options: LocalAgentOptions,
  ) {
    this.node = options.node ?? "local";
    this.replicaHost = options.replicaHost ?? "127.0.0.1";
    const host = options.routerHost ?? routerHost();
    // The kernel path DNATs to replicas on loopback: only where replicas listen there (one machine).
    const { kernel, detail } = this.replicaHost === "127.0.0.1" ? KernelTcp.detect(dir, host) : { kernel: null, detail: "router: tcp ports through drover (replicas listen on the node's address)" };
    this.routerDetail = detail;
    this.router = new Router((service, portName) => this.readyTargets(service, portName), host, kernel);
    this.ports = new PortAllocator(portRange, () => this.portsInUse());
    this.sampler = new MetricsSampler(dir, () => Promise.all(this.running().map(async ([id, handle]) => ({ id, usage: (await this.drivers.get(handle.runtime)?.usage(handle, true)) ?? null, pid: handle.pid ?? null }))));
    this.rotation = setInterval(() => this.rotateLogs(), LOG_ROTATE_CHECK_MS).unref();
  }

  /** Opens the agent's folder and re-adopts replicas that an earlier drover left running. */
  static async open(dir: string, drivers: Driver[], portRange: PortRange, options: LocalAgentOptions = {}): Promise<LocalAgent> {
    fs.mkdirSync(path.join(dir, "replicas"), { recursive: true });
    const agent = new LocalAgent(dir, new Map(drivers.map((d) => [d.runtime, d])), portRange, options);
    await agent.recover();
    agent.sampler.start();
    return agent;
  }

  info(): AgentInfo {
    return { node: this.node, runtimes: [...this.drivers.keys()], details: [...[...this.drivers.values()].map((d) => d.describe()), this.routerDetail] };
  }

  async start(launch: ReplicaLaunch): Promise<ReplicaStatus> {
    const previous = this.entries.get(launch.id);
    if (previous?.status.state === "running" || previous?.status.state === "ready") return previous.status;
    const generation = (previous?.generation ?? 0) + 1;
    const driver = this.drivers.get(launch.runtime);
    const base = { id: launch.id, node: this.node, service: launch.service, revision: launch.revision, startedAt: Date.now(), exit: null, probes: [], failing: null };
    const definition = launch.health;
    let ports: Record<string, number> = {};
    try {
      if (!driver) throw new LaunchError(`runtime ${launch.runtime} is not available on node ${this.node}`);
      // drover's own programs (a managed database's) are this node's installation's.
      const program = launch.container ? { command: launch.command, env: launch.env, user: launch.user } : resolveBuiltin({ command: launch.command, env: launch.env, user: launch.user }, this.dir);
      const fixed = launch.fixedPorts ?? {};
      for (const [name, port] of Object.entries(fixed)) {
        if (!(await isFree(port))) throw new LaunchError(`port ${port} (target_port of ${name}) is in use on node ${this.node}`, 1, "port_in_use");
      }
      const chosen = launch.portNames.filter((n) => fixed[n] === undefined);
      const numbers = await this.ports.allocate(chosen.length, chosen.map((n) => launch.preferredPorts[n]).filter((p): p is number => p !== undefined));
      ports = Object.fromEntries(launch.portNames.map((name) => [name, fixed[name] ?? numbers[chosen.indexOf(name)]!]));
      fs.mkdirSync(this.replicaDir(launch.id), { recursive: true });
      // A container listens on its declared ports (published on the host ports); a process on the host ports.
      const inside = launch.container ? Object.fromEntries(launch.container.ports.map((p) => [p.name, p.port])) : ports;
      const folders = stageFiles(this.dir, launch.id, launch.files, program.user, launch.container !== undefined && program.user?.uid === undefined);
      const files = launch.files.map((f, i) => ({ ...f, folder: folders[i]! }));
      // A container sees the folders at their mount paths; a process is told where they are.
      const mountEnv = launch.container ? {} : Object.fromEntries(files.map((f) => [`DROVER_MOUNT_${f.name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`, f.folder]));
      const volumes = (launch.volumes ?? []).map((v) => ({ ...v, folder: ensureVolume(this.dir, v.key, program.user) }));
      // A process finds its volumes' folders in DROVER_VOLUME_<NAME>; a container at their mount paths.
      const volumeVars = volumeEnv(volumes.map((v) => ({ name: v.name, where: launch.container ? (v.mountPath ?? v.folder) : v.folder })));
      // A process listens where the node's router and other nodes reach it; a container on all of its own addresses.
      const hostEnv: Record<string, string> = launch.container ? {} : { HOST: this.replicaHost };
      const running = await driver.start({
        replicaId: launch.id,
        command: program.command,
        workingDir: launch.workingDir,
        env: { ...hostEnv, ...program.env, ...mountEnv, ...volumeVars, ...portEnv(inside, launch.portNames) },
        logFile: this.logFile(launch.id),
        limits: launch.limits,
        user: program.user,
        container: launch.container,
        files,
        volumes: volumes.map((v) => ({ folder: v.folder, mountPath: v.mountPath })),
        hostPorts: ports,
        publishHost: this.replicaHost,
      });
      // Started once it runs: creating a container can take seconds, which no probe budget should pay for.
      const status: ReplicaStatus = { ...base, startedAt: Date.now(), state: "running", pid: running.pid, ports, endpoint: running.endpoint, message: "started" };
      this.set(launch.id, { status, handle: running.handle, generation, definition });
      this.ports.settle(Object.values(ports));
      this.watchExit(launch.id, generation, running.exited);
      this.watchHealth(launch.id, generation);
      return this.entries.get(launch.id)!.status;
    } catch (error) {
      this.ports.settle(Object.values(ports));
      if (!(error instanceof LaunchError)) throw error;
      this.appendLog(launch.id, `drover: ${error.message}\n`);
      const exit = { code: error.exitCode, signal: null, at: Date.now(), ...(error.reason ? { reason: error.reason } : {}) };
      const status: ReplicaStatus = { ...base, state: "exited", pid: null, ports, exit, message: error.message };
      this.set(launch.id, { status, handle: null, generation, definition });
      return status;
    }
  }

  async stop(id: string, signal: NodeJS.Signals, gracePeriodMs: number): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry?.handle || entry.status.state === "exited") return;
    entry.draining = true;
    this.membershipChanged();
    // A replica on its way out is not judged any more: a failing probe now would only be noise.
    entry.health?.close();
    await this.router.drain(id, gracePeriodMs);
    await this.drivers.get(entry.handle.runtime)?.stop(entry.handle, signal, gracePeriodMs);
  }

  async remove(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry?.handle && entry.status.state !== "exited") throw new Error(`replica ${id} is still running`);
    if (entry?.handle) await this.drivers.get(entry.handle.runtime)?.release(entry.handle);
    this.entries.delete(id);
    removeStagedFiles(this.dir, id);
    fs.rmSync(this.replicaDir(id), { recursive: true, force: true });
  }

  async removeVolume(key: string): Promise<void> {
    removeVolume(this.dir, key);
  }

  async volumeUsage(keys: string[]): Promise<Record<string, number>> {
    return Object.fromEntries(keys.map((key) => [key, volumeBytes(this.dir, key)]));
  }

  async prepare(runtime: string, image: ImageRef): Promise<{ reason: string; message: string } | null> {
    const driver = this.drivers.get(runtime);
    if (!driver) return { reason: "runtime_unavailable", message: `runtime ${runtime} is not available on node ${this.node}` };
    try {
      await driver.prepare?.(image);
      return null;
    } catch (error) {
      if (!(error instanceof LaunchError)) throw error;
      return { reason: error.reason ?? "launch_error", message: error.message };
    }
  }

  async list(): Promise<ReplicaStatus[]> {
    return [...this.entries.values()].map((e) => {
      const where = e.handle ? this.drivers.get(e.handle.runtime)?.where?.(e.handle) : undefined;
      // Copies only where something is added: this runs for every replica at every sample.
      return e.health || where ? { ...e.status, ...(e.health ? { probes: e.health.reports() } : {}), ...(where ? { where } : {}) } : e.status;
    });
  }

  watch(listener: (status: ReplicaStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async usage(id: string): Promise<ResourceUsage | null> {
    const entry = this.entries.get(id);
    if (!entry?.handle || entry.status.state === "exited") return null;
    return (await this.drivers.get(entry.handle.runtime)?.usage(entry.handle)) ?? null;
  }

  setRoutes(routes: Route[]): Promise<RouteStatus[]> {
    const remote = new Map(routes.filter((r) => r.remote?.length).map((r) => [`${r.service}\0${r.portName}`, r.remote!]));
    if (JSON.stringify([...remote]) !== JSON.stringify([...this.remoteTargets])) {
      this.remoteTargets = remote;
      this.membershipChanged();
    }
    return this.router.sync(routes);
  }

  metrics(): MetricsSnapshot {
    return this.sampler.snapshot();
  }

  traffic(service?: string): ServiceTraffic[] {
    return this.router.traffic(service);
  }

  async tailLogs(id: string, lines: number): Promise<string[]> {
    return tailLines(this.logFile(id), lines);
  }

  followLogs(id: string, onData: (text: string) => void): () => void {
    return followFile(this.logFile(id), onData);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.rotation);
    this.sampler.stop();
    for (const entry of this.entries.values()) entry.health?.close();
    this.router.close();
    this.listeners.clear();
  }

  private async recover(): Promise<void> {
    const listening = listeningPorts();
    for (const id of fs.readdirSync(path.join(this.dir, "replicas"))) {
      let saved: StateFile;
      try {
        saved = JSON.parse(fs.readFileSync(path.join(this.replicaDir(id), "state.json"), "utf8"));
      } catch {
        continue; // a replica whose start was interrupted before its state was written
      }
      const driver = saved.handle ? this.drivers.get(saved.handle.runtime) : undefined;
      const wasRunning = saved.status.state !== "exited";
      const running = wasRunning && driver && saved.handle ? await driver.adopt(saved.handle) : null;
      const definition = saved.health ?? {};
      if (running && driver) {
        // Ready as it was (a port rule is checked again at once); probes take over from there.
        // A container's ports are in its own network namespace: its saved state stands until probes say otherwise.
        const port = Object.values(saved.status.ports)[0];
        const portChecked = definition.readiness !== undefined || port === undefined || saved.status.endpoint !== undefined || listening.has(port);
        const wasReady = saved.status.state === "ready" && portChecked;
        const startupPassed = saved.status.state === "ready" || saved.status.state === "unready";
        const state = wasReady ? "ready" : startupPassed ? "unready" : "running";
        const status: ReplicaStatus = { ...saved.status, node: this.node, state, endpoint: running.endpoint ?? saved.status.endpoint, probes: [], failing: null, message: "adopted after drover restart" };
        this.entries.set(id, { status, handle: saved.handle, generation: 1, definition });
        this.watchExit(id, 1, running.exited);
        this.watchHealth(id, 1, { startupPassed, ready: wasReady });
      } else {
        const exit = saved.status.exit ?? { code: null, signal: null, unknown: true, at: Date.now() };
        const message = wasRunning ? "ended while drover was not running" : saved.status.message;
        this.set(id, { status: { ...saved.status, node: this.node, state: "exited", exit, message, probes: [], failing: null }, handle: saved.handle, generation: 1, definition });
      }
    }
  }

  private watchExit(id: string, generation: number, exited: Promise<ExitInfo>): void {
    void exited.then((exit) => {
      const entry = this.entries.get(id);
      if (!entry || entry.generation !== generation) return;
      entry.health?.close();
      const how = exit.unknown ? "ended" : exit.oomKilled ? `killed by the OOM killer (${exit.signal ?? `code ${exit.code}`})` : exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const probes = entry.health?.reports() ?? [];
      this.set(id, { ...entry, health: undefined, status: { ...entry.status, state: "exited", exit, message: how, probes, failing: null } });
    });
  }

  /** Starts the replica's probes; their verdicts move it between running, ready and unready. */
  private watchHealth(id: string, generation: number, adopted?: { startupPassed: boolean; ready: boolean }): void {
    const entry = this.entries.get(id);
    if (!entry?.handle || this.closed) return;
    const handle = entry.handle;
    const driver = this.drivers.get(handle.runtime)!;
    const health = new ReplicaHealth(entry.definition, {
      ports: entry.status.endpoint?.ports ?? entry.status.ports,
      host: entry.status.endpoint?.host ?? this.replicaHost,
      startedAt: entry.status.startedAt,
      exec: (command, timeoutMs) => driver.exec(handle, command, timeoutMs),
      whenListening,
      onChange: () => this.healthChanged(id, generation),
    });
    entry.health = health;
    health.start(adopted);
    // A replica with no ports and no probes is ready at once.
    this.healthChanged(id, generation);
  }

  private healthChanged(id: string, generation: number): void {
    const entry = this.entries.get(id);
    if (!entry?.health || entry.generation !== generation || entry.status.state === "exited" || this.closed) return;
    const verdict = entry.health.verdict();
    const probes = entry.health.reports();
    const was = entry.status.state;
    const state = verdict.ready ? "ready" : was === "ready" || was === "unready" ? "unready" : "running";
    const changedProbes = probes.map((p) => p.state).join() !== entry.status.probes.map((p) => p.state).join();
    const changedFailing = verdict.failing?.message !== entry.status.failing?.message;
    if (state === was && !changedProbes && !changedFailing) return;
    const message = verdict.failing?.message ?? (state === was ? entry.status.message : stateMessage(state, probes, entry.status.ports));
    this.set(id, { ...entry, status: { ...entry.status, state, probes, failing: verdict.failing, message } });
  }

  private set(id: string, entry: Entry): void {
    const previous = this.entries.get(id);
    this.entries.set(id, entry);
    // Only a new replica or a change of state can change who takes traffic (probe runs cannot).
    if (!previous || previous.status.state !== entry.status.state) this.membershipChanged();
    // The file records what re-adoption needs: the handle, the state (ready or not), an exit.
    if (!previous || previous.handle !== entry.handle || previous.status.state !== entry.status.state) this.save(id, entry);
    for (const listener of this.listeners) listener(entry.status);
  }

  private membershipChanged(): void {
    this.targetCache.clear();
    this.router.membershipChanged();
  }

  private save(id: string, entry: Entry): void {
    const state: StateFile = { status: entry.status, handle: entry.handle, health: entry.definition };
    // The folder exists: start() and appendLog() make it before anything is saved.
    const file = path.join(this.replicaDir(id), "state.json");
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(state));
    fs.renameSync(`${file}.tmp`, file);
  }

  /** Cached per service port until a replica changes: the router asks on every request. */
  private readyTargets(service: string, portName: string): BackendTarget[] {
    const key = `${service}\0${portName}`;
    const cached = this.targetCache.get(key);
    if (cached) return cached;
    const targets: BackendTarget[] = [];
    for (const entry of this.entries.values()) {
      const hostPort = entry.status.ports[portName];
      if (entry.status.service !== service || entry.status.state !== "ready" || entry.draining || hostPort === undefined) continue;
      const { host, ports } = entry.status.endpoint ?? { host: this.replicaHost, ports: entry.status.ports };
      targets.push({ replica: entry.status.id, revision: entry.status.revision, host, port: ports[portName] ?? hostPort, hostPort });
    }
    targets.push(...(this.remoteTargets.get(key) ?? []));
    this.targetCache.set(key, targets);
    return targets;
  }

  /** Replicas with a live handle: what the sampler measures. */
  private running(): Array<[string, DriverHandle]> {
    return [...this.entries.values()].filter((e) => e.handle && e.status.state !== "exited").map((e) => [e.status.id, e.handle!]);
  }

  /** Ports left in the replica port range, for the scheduler. */
  freePorts(): number {
    return this.portRange.to - this.portRange.from + 1 - this.portsInUse().length;
  }

  private portsInUse(): number[] {
    return [...this.entries.values()].filter((e) => e.status.state !== "exited").flatMap((e) => Object.values(e.status.ports));
  }

  private rotateLogs(): void {
    for (const [id, entry] of this.entries) if (entry.status.state !== "exited") rotateIfLarge(this.logFile(id));
  }

  private appendLog(id: string, text: string): void {
    fs.mkdirSync(this.replicaDir(id), { recursive: true });
    fs.appendFileSync(this.logFile(id), text);
  }

  private replicaDir(id: string): string {
    return path.join(this.dir, "replicas", id);
  }

  private logFile(id: string): string {
    return path.join(this.replicaDir(id), "replica.log");
  }
}

function stateMessage(state: ReplicaStatus["state"], probes: ProbeReport[], ports: Record<string, number>): string {
  const readiness = probes.find((p) => p.kind === "readiness");
  if (state === "ready") {
    if (readiness) return `readiness probe passing (${readiness.target}: ${readiness.last?.message ?? "assumed after adoption"})`;
    const port = Object.values(ports)[0];
    return port === undefined ? "running (no ports)" : `accepting connections on port ${port}`;
  }
  if (state === "unready") return `readiness probe failing (${readiness?.target}: ${readiness?.last?.message})`;
  return "started";
}

/** PORT (the first port) and DROVER_PORT_<NAME> for each. */
function portEnv(ports: Record<string, number>, names: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (names[0] !== undefined) env.PORT = String(ports[names[0]]);
  for (const name of names) env[`DROVER_PORT_${name.toUpperCase().replace(/-/g, "_")}`] = String(ports[name]);
  return env;
}
