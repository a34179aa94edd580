/**
 * Nodes for multi-machine tests, on this one machine: each node is a network namespace the test
 * makes, on a bridge of its own with a private /24 chosen for this run (so parallel runs do not
 * collide), with a real `drover agent` inside. The server runs outside, on the bridge's address,
 * with no node of its own. `cleanup` removes every process, namespace, link, firewall rule and
 * cgroup it made, also when the test failed.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import tls from "node:tls";
import crypto from "node:crypto";
import fs from "node:fs";
import { volumesRoot } from "../src/agent/volumes.js";
import os from "node:os";
import path from "node:path";
import { CLI, Drover, freePort, HELLO, waitFor } from "./harness.js";
import type { NodeView, ReplicaRecord } from "../src/contract/index.js";
import { SERVER_NODE_FLAGS } from "../src/cli/server-process.js";

/** Null when namespaces can be made here (root with ip, nsenter and iptables), else why not. */
export function clusterUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root to make network namespaces";
  for (const tool of ["ip", "nsenter", "iptables"]) if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  return null;
}

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function quiet(command: string, args: string[]): void {
  spawnSync(command, args, { stdio: "ignore" });
}

export interface AgentOptions {
  name?: string;
  labels?: Record<string, string>;
  /** Join with this token (default: a fresh one); null: start with the credential saved in the node's home. */
  token?: string | null;
}

export class TestCluster {
  readonly id = crypto.randomBytes(3).toString("hex");
  readonly bridge = `drb${this.id}`;
  readonly agents = new Map<number, ChildProcess>();
  /** Every server process started here (killed at the end, whoever's home it used). */
  private readonly extraServers = new Set<ChildProcess>();
  clusterPort = 0;
  private namespaces: string[] = [];
  private rules: string[][] = [];

  private constructor(
    readonly drover: Drover,
    /** The first three octets of this run's /24, e.g. "10.213.7". */
    readonly subnet: string,
  ) {}

  /** A bridge, `nodes` namespaces on it, and a drover server outside them (not started). */
  static async create(nodes: number): Promise<TestCluster> {
    const cluster = new TestCluster(await Drover.create(), freeSubnet());
    // A test file the runner ends on a timeout never reaches its after() hooks: the namespaces, links
    // and firewall rules go when the process does, however it ends.
    const onExit = () => cluster.removeSystemState();
    process.once("exit", onExit);
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => process.exit(1));
    try {
      cluster.setUp(nodes);
    } catch (error) {
      await cluster.cleanup();
      throw error;
    }
    return cluster;
  }

  get serverAddress(): string {
    return `${this.subnet}.1`;
  }

  namespace(i: number): string {
    return `drv-${this.id}-${i}`;
  }

  address(i: number): string {
    return `${this.subnet}.${10 + i}`;
  }

  home(i: number): string {
    return path.join(this.drover.home, `node${i}`);
  }

  /** Adds node `i`'s namespace (nodes may be added after the start, to join later). */
  addNamespace(i: number): void {
    const ns = this.namespace(i);
    const veth = `dv${this.id}${i}`;
    sh("ip", ["netns", "add", ns]);
    this.namespaces.push(ns);
    sh("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    sh("ip", ["link", "set", veth, "master", this.bridge, "up"]);
    sh("ip", ["-n", ns, "addr", "add", `${this.address(i)}/24`, "dev", "eth0"]);
    sh("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    sh("ip", ["-n", ns, "route", "add", "default", "via", this.serverAddress]);
  }

  /** Starts (or starts again: same addresses) the server outside the namespaces. */
  async startServer(extra: string[] = []): Promise<void> {
    this.clusterPort ||= await freePort();
    await this.startServerOf(this.drover, this.clusterPort, extra);
  }

  /** Starts a server for `drover` (its home and API port) taking agents on the bridge at `clusterPort`: one of several on a shared store. */
  async startServerOf(drover: Drover, clusterPort: number, extra: string[] = []): Promise<void> {
    const log = fs.openSync(path.join(drover.home, "server.log"), "a");
    const args = [...SERVER_NODE_FLAGS, CLI, "server", "--cluster-listen", `${this.serverAddress}:${clusterPort}`, "--no-local-node", ...extra];
    drover.server = spawn(process.execPath, args, { env: drover.env, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    const child = drover.server;
    this.extraServers.add(child);
    await waitFor("the drover server to answer", () => {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${fs.readFileSync(path.join(drover.home, "server.log"), "utf8").slice(-2000)}`);
      return drover.healthy();
    });
  }

  /** Where agents dial: this cluster's server, or every server given here (several on a shared store). */
  agentServers: string[] | null = null;

  async joinToken(ttl = "10m"): Promise<{ token: string; caHash: string; server: string; command: string; expiresAt: number }> {
    return this.drover.json(["node", "join-token", "--ttl", ttl]);
  }

  /** Runs `drover agent` inside node `i`'s namespace (only its network: cgroups stay visible). */
  async startAgent(i: number, options: AgentOptions = {}): Promise<ChildProcess> {
    const home = this.home(i);
    fs.mkdirSync(home, { recursive: true });
    const join = options.token === null ? null : await this.joinToken();
    const token = options.token ?? join?.token;
    const servers = this.agentServers?.join(",") ?? `${this.serverAddress}:${this.clusterPort}`;
    const args = ["--net=/run/netns/" + this.namespace(i), process.execPath, CLI, "agent", "--server", servers, "--name", options.name ?? `node${i}`, "--address", this.address(i)];
    if (token) args.push("--token", token, "--ca-hash", join?.caHash ?? (await this.joinToken()).caHash);
    if (options.labels) args.push("--labels", Object.entries(options.labels).map(([k, v]) => `${k}=${v}`).join(","));
    const log = fs.openSync(path.join(home, "agent.log"), "a");
    const child = spawn("nsenter", args, { env: { ...this.drover.env, DROVER_HOME: home }, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.agents.set(i, child);
    return child;
  }

  agentLog(i: number): string {
    return fs.readFileSync(path.join(this.home(i), "agent.log"), "utf8");
  }

  /** kill -9 of everything in the node's namespace: its agent and all its replicas. */
  killNode(i: number): void {
    for (const pid of this.pids(i)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }

  /** Pauses (or resumes) everything in the node: an agent and replicas starved of CPU. */
  signalNode(i: number, signal: "SIGSTOP" | "SIGCONT"): void {
    for (const pid of this.pids(i)) process.kill(pid, signal);
  }

  pids(i: number): number[] {
    try {
      return sh("ip", ["netns", "pids", this.namespace(i)]).split("\n").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  async cleanup(): Promise<void> {
    this.drover.server?.kill("SIGKILL");
    for (const ns of this.poolNamespaces()) {
      killEverything(pidsOf(ns));
      await waitFor(`the processes of ${ns} to end`, () => pidsOf(ns).length === 0, 5000).catch(() => undefined);
    }
    for (const ns of this.namespaces) {
      const i = Number(ns.split("-").at(-1));
      this.killAll(i);
      await waitFor(`the processes of ${ns} to end`, () => this.pids(i).length === 0, 5000).catch(() => undefined);
    }
    // Volumes of agents running as root live outside their homes (see volumesRoot).
    for (const ns of this.namespaces) fs.rmSync(volumesRoot(path.join(this.home(Number(ns.split("-").at(-1))), "agent")), { recursive: true, force: true });
    this.removeSystemState();
    fs.rmSync(this.drover.home, { recursive: true, force: true });
  }

  /** Synchronous, idempotent: what would outlive the test — processes, namespaces, links, rules, cgroups. */
  private removeSystemState(): void {
    this.drover.server?.kill("SIGKILL");
    for (const server of this.extraServers) {
      server.kill("SIGCONT");
      server.kill("SIGKILL");
    }
    const replicaIds: string[] = [];
    for (const ns of this.namespaces) {
      const i = Number(ns.split("-").at(-1));
      this.killAll(i);
      quiet("ip", ["netns", "del", ns]);
      const replicas = path.join(this.home(i), "agent", "replicas");
      if (fs.existsSync(replicas)) replicaIds.push(...fs.readdirSync(replicas));
    }
    this.namespaces = [];
    // Nodes a node pool made on this bridge (their namespaces are named by drover, not here).
    for (const ns of this.poolNamespaces()) {
      killEverything(pidsOf(ns));
      quiet("ip", ["netns", "del", ns]);
    }
    // Agents a node pool made keep their homes somewhere under this home too.
    replicaIds.push(...replicaFolders(this.drover.home, 6).flatMap((dir) => fs.readdirSync(dir)));
    for (const rule of this.rules) quiet("iptables", ["-D", ...rule]);
    this.rules = [];
    quiet("ip", ["link", "del", this.bridge]);
    for (const id of replicaIds) {
      for (const controller of ["cpu", "cpuacct", "memory", "pids"]) {
        try {
          fs.rmdirSync(`/sys/fs/cgroup/${controller}/drover/${id}`);
        } catch {
          // released already, or no cgroup here
        }
      }
    }
  }

  /** Namespaces whose link hangs on this cluster's bridge, whoever made them (a node pool's). */
  poolNamespaces(): string[] {
    const out = spawnSync("ip", ["-o", "link", "show", "master", this.bridge], { encoding: "utf8" }).stdout ?? "";
    const mine = new Set(this.namespaces);
    return [...new Set([...out.matchAll(/link-netns (\S+)/g)].map((m) => m[1]!))].filter((ns) => !mine.has(ns));
  }

  private killAll(i: number): void {
    killEverything(this.pids(i));
  }


  private setUp(nodes: number): void {
    sh("ip", ["link", "add", this.bridge, "type", "bridge"]);
    sh("ip", ["addr", "add", `${this.serverAddress}/24`, "dev", this.bridge]);
    sh("ip", ["link", "set", this.bridge, "up"]);
    // A running Docker Engine sets the FORWARD policy to DROP: this bridge's traffic is let through while the test runs.
    for (const rule of [["FORWARD", "-i", this.bridge, "-j", "ACCEPT"], ["FORWARD", "-o", this.bridge, "-j", "ACCEPT"]]) {
      sh("iptables", ["-I", ...rule]);
      this.rules.push(rule);
    }
    for (let i = 1; i <= nodes; i++) this.addNamespace(i);
  }
}

/** Every agent's replicas folder (…/agent/replicas) under `dir`, up to `depth` folders down. */
function replicaFolders(dir: string, depth: number): string[] {
  if (depth === 0 || !fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const child = path.join(dir, entry.name);
    if (entry.name === "replicas" && path.basename(dir) === "agent") found.push(child);
    else found.push(...replicaFolders(child, depth - 1));
  }
  return found;
}

/** SIGCONT (a paused one would not die) then SIGKILL to each. */
function killEverything(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

function pidsOf(ns: string): number[] {
  return (spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "").split("\n").filter(Boolean).map(Number);
}

/** A /24 in 10.0.0.0/8 that no interface or route here uses. */
function freeSubnet(): string {
  const used = sh("ip", ["-o", "addr"]) + sh("ip", ["route"]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const subnet = `10.${100 + crypto.randomInt(150)}.${crypto.randomInt(256)}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error(`no free private subnet found (${os.hostname()})`);
}

/** A hello service for the cluster tests: small requests, a short grace period. */
export function clusterService(name: string, port: number, replicas: number, extra = ""): string {
  return `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: test}
spec:
  command: [node, server.js]
  working_dir: ${HELLO}
  replicas: ${replicas}
  networking: {ports: [{name: http, port: ${port}}]}
  resources: {requests: {cpu: 50m, memory: 32Mi}}
  stop: {grace_period: 2s}
${extra}`;
}

export async function nodesOf(cluster: TestCluster): Promise<NodeView[]> {
  return cluster.drover.json<NodeView[]>(["node", "ls"]);
}

export async function replicasOf(cluster: TestCluster, service: string): Promise<ReplicaRecord[]> {
  return (await cluster.drover.replicasOf(service)).filter((r) => r.service === service);
}

/** Ready replicas per node. */
export function readyByNode(list: ReplicaRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of list) if (r.state === "ready") counts[r.node] = (counts[r.node] ?? 0) + 1;
  return counts;
}

/** Runs `drover agent` in node i's namespace, in a home of its own, until it exits (as it does when the join is refused). */
export async function runAgentOnce(cluster: TestCluster, i: number, args: string[]): Promise<{ code: number; output: string }> {
  const home = fs.mkdtempSync(path.join(cluster.drover.home, "once-"));
  const run = spawn("nsenter", [`--net=/run/netns/${cluster.namespace(i)}`, process.execPath, CLI, "agent", "--server", `${cluster.serverAddress}:${cluster.clusterPort}`, "--name", `once${i}`, "--address", cluster.address(i), ...args], { env: { ...cluster.drover.env, DROVER_HOME: home } });
  let output = "";
  run.stdout.on("data", (d) => (output += d));
  run.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number>((resolve) => run.on("close", (c) => resolve(c ?? -1)));
  return { code, output };
}

/** Sends lines to the cluster port and reports whether the server closed the connection. */
export function garble(cluster: TestCluster, caPem: string, lines: string[]): Promise<"closed" | "open"> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: cluster.serverAddress, port: cluster.clusterPort, ca: caPem }, () => {
      for (const line of lines) socket.write(`${line}\n`);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("open");
    }, 5000);
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
  });
}
