/**
 * The `local` provider: each instance is a network namespace on this machine, on a bridge, with
 * an address of its own and a real `drover agent` inside sized by its machine type — nodes for
 * development, demos and tests, as kind and k3d make Kubernetes nodes. Needs root (ip, nsenter).
 *
 * The tag is the namespace's name, `drvp-<cluster>-<instance>`: `ip netns list` is the provider's
 * list, and an instance made just before drover crashed is found there.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { detectCgroups } from "../../../agent/drivers/process/cgroup.js";
import type { MachineType } from "../../../spec/index.js";
import { ProviderError, type CreateRequest, type Provider, type ProviderInstance } from "../provider.js";
import type { ProviderContext } from "../provider-context.js";
import { run, succeeds } from "./host-commands.js";

/** Sizes for trying things out; hourly costs and watts are nominal, so cost and energy choices can be seen. */
export const LOCAL_CATALOG: MachineType[] = [
  { name: "small", cpu: 1000, memory: 1024 ** 3, gpus: 0, hourly_cost: 0.01, watts: 15 },
  { name: "medium", cpu: 2000, memory: 4 * 1024 ** 3, gpus: 0, hourly_cost: 0.04, watts: 35 },
  { name: "large", cpu: 4000, memory: 8 * 1024 ** 3, gpus: 0, hourly_cost: 0.08, watts: 65 },
];

/** Node addresses start here, leaving the low ones of a shared bridge to whoever made it. */
const FIRST_HOST = 100;

export class LocalProvider implements Provider {
  private creating: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly context: ProviderContext,
    private readonly settings: { bridge: string; subnet: string },
  ) {}

  async catalog(): Promise<MachineType[]> {
    return LOCAL_CATALOG;
  }

  async create(request: CreateRequest): Promise<{ providerId: string; address: string | null }> {
    // One at a time: two creates must not take the same address.
    const result = this.creating.then(() => this.createNow(request));
    this.creating = result.catch(() => undefined);
    return result;
  }

  private async createNow(request: CreateRequest): Promise<{ providerId: string; address: string | null }> {
    if (process.getuid?.() !== 0) throw new ProviderError("the local provider makes network namespaces: it needs root");
    const ns = this.namespace(request.instance);
    if (fs.existsSync(`/run/netns/${ns}`)) return { providerId: ns, address: await this.address(ns) };
    const gateway = await this.ensureBridge();
    const address = await this.freeAddress();
    const veth = `dvp${crypto.createHash("sha256").update(ns).digest("hex").slice(0, 8)}`;
    try {
      await run("ip", ["netns", "add", ns]);
      await run("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await run("ip", ["link", "set", veth, "master", this.settings.bridge, "up"]);
      await run("ip", ["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
      await run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      await run("ip", ["-n", ns, "route", "add", "default", "via", gateway]);
    } catch (error) {
      await this.terminate(ns);
      throw error;
    }
    fs.mkdirSync(this.home(request.instance), { recursive: true });
    return { providerId: ns, address };
  }

  async start(providerId: string, request: CreateRequest): Promise<void> {
    if (!fs.existsSync(`/run/netns/${providerId}`)) throw new ProviderError(`namespace ${providerId} is gone`);
    // Something runs inside already: the agent (its home lock would refuse a second one anyway).
    if ((await this.pids(providerId)).length > 0) return;
    const address = await this.address(providerId);
    if (!address) throw new ProviderError(`namespace ${providerId} has no address`);
    const gateway = await this.gateway();
    const home = this.home(request.instance);
    fs.mkdirSync(home, { recursive: true });
    const { machine } = request;
    const args = [
      `--net=/run/netns/${providerId}`, ...this.context.droverCommand, "agent",
      "--server", request.join.servers.map((s) => reachable(s, gateway)).join(","),
      "--token", request.join.token, "--ca-hash", request.join.caHash,
      "--name", request.instance, "--address", address,
      "--capacity", `cpu=${machine.cpu}m,memory=${machine.memory},gpus=${machine.gpus}`,
    ];
    const labels = Object.entries(request.labels);
    if (labels.length > 0) args.push("--labels", labels.map(([k, v]) => `${k}=${v}`).join(","));
    const log = fs.openSync(path.join(home, "agent.log"), "a");
    // Its own session: the node outlives this server (a crash or a restart of drover leaves it running).
    const child = spawn("nsenter", args, { env: { ...process.env, DROVER_HOME: home }, stdio: ["ignore", log, log], detached: true });
    fs.closeSync(log);
    child.unref();
  }

  async terminate(providerId: string): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = await this.pids(providerId);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (fs.existsSync(`/run/netns/${providerId}`)) await run("ip", ["netns", "del", providerId]);
    const instance = this.instanceOf(providerId);
    if (instance) this.removeHome(this.home(instance));
  }

  async address(providerId: string): Promise<string | null> {
    try {
      const out = await run("ip", ["-n", providerId, "-4", "-o", "addr", "show", "dev", "eth0"]);
      return /inet (\d+\.\d+\.\d+\.\d+)/.exec(out)?.[1] ?? null;
    } catch {
      return null;
    }
  }

  async exists(providerId: string): Promise<boolean> {
    return fs.existsSync(`/run/netns/${providerId}`);
  }

  async list(): Promise<ProviderInstance[]> {
    const prefix = `drvp-${this.context.cluster}-`;
    const names = (await run("ip", ["netns", "list"])).split("\n").map((line) => line.split(" ")[0]!).filter((n) => n.startsWith(prefix));
    const mine = names.filter((n) => this.instanceOf(n) !== null);
    return Promise.all(
      mine.map(async (ns) => ({ providerId: ns, instance: this.instanceOf(ns)!, state: (await this.pids(ns)).length > 0 ? ("running" as const) : ("stopped" as const), address: await this.address(ns) })),
    );
  }

  private namespace(instance: string): string {
    return `drvp-${this.context.cluster}-${instance}`;
  }

  /** The instance a namespace of this cluster and pool belongs to, or null. */
  private instanceOf(ns: string): string | null {
    const rest = ns.slice(`drvp-${this.context.cluster}-`.length);
    return ns.startsWith(`drvp-${this.context.cluster}-`) && rest.startsWith(`${this.context.pool}-`) && /^[0-9a-f]{6}$/.test(rest.slice(this.context.pool.length + 1)) ? rest : null;
  }

  private home(instance: string): string {
    return path.join(this.context.home, "pools", this.context.pool, instance);
  }

  /** The node's files go with it; its cgroups too (they are the host's). */
  private removeHome(home: string): void {
    const replicas = path.join(home, "agent", "replicas");
    const cgroups = detectCgroups();
    for (const id of fs.existsSync(replicas) ? fs.readdirSync(replicas) : []) cgroups.remove(id);
    fs.rmSync(home, { recursive: true, force: true });
  }

  private async pids(ns: string): Promise<number[]> {
    if (!fs.existsSync(`/run/netns/${ns}`)) return [];
    try {
      return (await run("ip", ["netns", "pids", ns])).split("\n").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** The bridge's address: made with the subnet's .1 when the bridge does not exist yet. */
  private async ensureBridge(): Promise<string> {
    const { bridge, subnet } = this.settings;
    const existing = await run("ip", ["-d", "-o", "link", "show", bridge]).catch(() => null);
    if (existing === null) {
      await run("ip", ["link", "add", bridge, "type", "bridge"]);
      await run("ip", ["addr", "add", `${subnet}.1/24`, "dev", bridge]);
      await run("ip", ["link", "set", bridge, "up"]);
    } else if (!/\bbridge\b/.test(existing)) {
      throw new ProviderError(`${bridge} exists and is not a bridge: name another one in local.bridge`);
    }
    // A Docker Engine's FORWARD policy (DROP) would cut the nodes off from each other.
    for (const rule of [["FORWARD", "-i", bridge, "-j", "ACCEPT"], ["FORWARD", "-o", bridge, "-j", "ACCEPT"]]) {
      if (!(await succeeds("iptables", ["-C", ...rule]))) await succeeds("iptables", ["-I", ...rule]);
    }
    return this.gateway();
  }

  private async gateway(): Promise<string> {
    const out = await run("ip", ["-4", "-o", "addr", "show", "dev", this.settings.bridge]).catch(() => "");
    const address = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(out)?.[1];
    if (!address || !address.startsWith(`${this.settings.subnet}.`)) throw new ProviderError(`bridge ${this.settings.bridge} has no address in ${this.settings.subnet}.0/24`);
    return address;
  }

  /** An address of the subnet that no namespace on this machine uses. */
  private async freeAddress(): Promise<string> {
    const used = new Set<string>();
    for (const line of (await run("ip", ["netns", "list"])).split("\n")) {
      const ns = line.split(" ")[0];
      if (!ns) continue;
      const address = await this.address(ns);
      if (address) used.add(address);
    }
    for (let host = FIRST_HOST; host < 255; host++) if (!used.has(`${this.settings.subnet}.${host}`)) return `${this.settings.subnet}.${host}`;
    throw new ProviderError(`no free address left in ${this.settings.subnet}.${FIRST_HOST}-254`);
  }
}

/** A server listening on every address is reached through the bridge's; loopback never is, from a namespace. */
function reachable(server: string, gateway: string): string {
  const [host, port] = splitHostPort(server);
  if (host === "0.0.0.0" || host === "::" || host === "") return `${gateway}:${port}`;
  if (host.startsWith("127.") || host === "::1" || host === "localhost") throw new ProviderError(`the server's cluster address ${server} is loopback, which a namespace cannot reach: start it with --cluster-listen ${gateway}:${port} (or 0.0.0.0:${port})`);
  return server;
}

function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(":");
  return [address.slice(0, at).replace(/^\[|\]$/g, ""), address.slice(at + 1)];
}
