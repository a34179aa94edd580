/**
 * The `ssh` provider: existing hosts, reached over SSH (keys only, host keys checked against a
 * known_hosts file). Creating an instance installs drover on a free host from drover's own
 * package (Node.js is all the host needs), writes the join token where only root reads it, and
 * starts the agent so it survives the SSH session and a reboot (a systemd unit where systemd runs,
 * else a detached process plus an @reboot crontab line where cron is). Terminating stops the agent
 * and its replicas and removes all of it (the logs kept only when asked).
 *
 * Each instance lives in `<install_dir>/<instance>/` with a meta.json naming its cluster, pool and
 * host: that is the tag `list` reads back.
 */
import os from "node:os";
import path from "node:path";
import type { MachineType } from "../../../spec/index.js";
import { ProviderError, type CreateRequest, type Provider, type ProviderInstance } from "../provider.js";
import type { ProviderContext } from "../provider-context.js";
import { droverBundle } from "./drover-bundle.js";
import { shellQuote as q, SshSession, type SshTarget } from "./ssh-session.js";

export interface SshSettings {
  hosts: Array<{ address: string; port: number }>;
  user: string;
  private_key_file: string;
  known_hosts_file: string;
  install_dir: string;
  node: string;
  connect_timeout: number;
  command_timeout: number;
  keep_logs: boolean;
}

interface Meta {
  instance: string;
  pool: string;
  cluster: string;
  host: string;
  boot: "systemd" | "crontab" | "none";
}

/** Stops everything started from the instance's folder: replicas (their process groups) and the agent. */
const KILL_SCRIPT = `
const fs = require("fs"), path = require("path");
const dir = process.argv[1];
const replicas = path.join(dir, "home", "agent", "replicas");
for (const id of fs.existsSync(replicas) ? fs.readdirSync(replicas) : []) {
  try { const s = JSON.parse(fs.readFileSync(path.join(replicas, id, "state.json"), "utf8")); if (s.status && s.status.pid) process.kill(-s.status.pid, "SIGKILL"); } catch {}
}
for (const pid of fs.readdirSync("/proc").filter((p) => /^\\d+$/.test(p))) {
  try { if (fs.readFileSync("/proc/" + pid + "/cmdline", "utf8").includes(dir + "/") && Number(pid) !== process.pid) process.kill(Number(pid), "SIGKILL"); } catch {}
}
// The replicas' cgroups (v1 controllers, or v2) go once their processes have: tried for up to two seconds.
const cgroups = (fs.existsSync(replicas) ? fs.readdirSync(replicas) : []).flatMap((id) => ["cpu", "cpuacct", "memory", "pids", ""].map((c) => path.join("/sys/fs/cgroup", c, "drover", id)));
for (let i = 0; i < 20 && cgroups.some((d) => fs.existsSync(d)); i++) {
  for (const d of cgroups) try { fs.rmdirSync(d); } catch {}
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
}`;

export class SshProvider implements Provider {
  private creating: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly context: ProviderContext,
    private readonly settings: SshSettings,
  ) {}

  /** Hosts are what they are: a pool describes them with `machine: {cpu, memory}` or its own catalog. */
  async catalog(): Promise<MachineType[]> {
    return [];
  }

  async create(request: CreateRequest): Promise<{ providerId: string; address: string | null }> {
    // Hosts are picked one create at a time (two must not pick the same); installs then run side by side.
    const picked = this.creating.then(() => this.pickHost(request));
    this.creating = picked.catch(() => undefined);
    const { host, existing } = await picked;
    if (existing) return { providerId: this.providerId(host, request.instance), address: host.address };
    try {
      return await this.install(host, request);
    } finally {
      this.claimed.delete(host);
    }
  }

  /** Hosts being installed on now (not yet showing a meta.json). */
  private readonly claimed = new Set<SshSettings["hosts"][number]>();

  private async pickHost(request: CreateRequest): Promise<{ host: SshSettings["hosts"][number]; existing: boolean }> {
    const { installs: taken, unreachable } = await this.scan();
    const mine = taken.find((t) => t.meta.instance === request.instance && t.meta.cluster === this.context.cluster);
    if (mine) return { host: mine.host, existing: true };
    const free = this.settings.hosts.filter((h) => !taken.some((t) => t.host === h) && !this.claimed.has(h));
    const host = free.find((h) => !unreachable.has(h));
    if (!host) throw new Error(free.length === 0 ? `every host of the pool runs a drover agent already (${this.settings.hosts.map((h) => h.address).join(", ")})` : `no free host answers: ${free.map((h) => unreachable.get(h)).join("; ")}`);
    this.claimed.add(host);
    return { host, existing: false };
  }

  private async install(host: SshSettings["hosts"][number], request: CreateRequest): Promise<{ providerId: string; address: string | null }> {
    const session = await SshSession.connect(this.target(host));
    const dir = this.dir(request.instance);
    try {
      const version = await session.must(`${q(this.settings.node)} -e 'process.stdout.write(process.versions.node)'`, "checking Node.js");
      if (Number(version.split(".")[0]) < 20) throw new ProviderError(`${host.address} has Node.js ${version.trim()}; drover needs 20 or newer (set ssh.node to its path)`);
      await session.must(`mkdir -p ${q(`${dir}/app`)} && chmod 700 ${q(dir)}`, "making the install folder");
      const bundle = await droverBundle(this.context.packageRoot, path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "drover", "bundles"));
      await session.upload(bundle, `${dir}/drover.tgz`);
      await session.must(`tar -xzf ${q(`${dir}/drover.tgz`)} -C ${q(`${dir}/app`)} && rm ${q(`${dir}/drover.tgz`)}`, "unpacking drover");
      const meta: Meta = { instance: request.instance, pool: this.context.pool, cluster: this.context.cluster, host: host.address, boot: "none" };
      await this.writeFile(session, `${dir}/meta.json`, JSON.stringify(meta));
      await this.writeFile(session, `${dir}/run-agent.sh`, this.runScript(request, host.address), "700");
    } catch (error) {
      // Half an install is no install: what was copied goes.
      await session.exec(`rm -rf ${q(dir)}`, "removing a half install").catch(() => undefined);
      throw error;
    } finally {
      session.close();
    }
    return { providerId: this.providerId(host, request.instance), address: host.address };
  }

  async start(providerId: string, request: CreateRequest): Promise<void> {
    const { host, instance } = this.parse(providerId);
    const dir = this.dir(instance);
    const session = await SshSession.connect(this.target(host));
    try {
      const meta = JSON.parse(await session.must(`cat ${q(`${dir}/meta.json`)}`, "reading the instance")) as Meta;
      if ((await session.exec(`test -f ${q(`${dir}/agent.pid`)} && kill -0 "$(cat ${q(`${dir}/agent.pid`)})"`, "checking for a running agent")).code === 0) return;
      if (meta.boot === "systemd" && (await session.exec(`systemctl is-active --quiet ${this.unit(instance)}`, "checking the agent's unit")).code === 0) return;
      // A fresh token each start: the first one may have expired (the agent keeps its credential once joined).
      await this.writeFile(session, `${dir}/join-token`, request.join.token, "600");
      await this.writeFile(session, `${dir}/run-agent.sh`, this.runScript(request, host.address), "700");
      if ((await session.exec("test -d /run/systemd/system", "looking for systemd")).code === 0) {
        await this.writeFile(session, `/etc/systemd/system/${this.unit(instance)}`, this.unitFile(instance));
        await session.must(`systemctl daemon-reload && systemctl enable --now ${this.unit(instance)}`, "starting the agent's unit");
        meta.boot = "systemd";
      } else {
        // Only setsid goes to the background (the shell ends, the SSH channel closes); $! is the agent (setsid and the script exec in place).
        await session.must(`cd / && { setsid nohup ${q(`${dir}/run-agent.sh`)} </dev/null >/dev/null 2>&1 & echo $! > ${q(`${dir}/agent.pid`)}; }`, "starting the agent");
        const cron = (await session.exec(`command -v crontab >/dev/null && { crontab -l 2>/dev/null | grep -v -F ${q(`${dir}/run-agent.sh`)}; echo ${q(`@reboot ${dir}/run-agent.sh`)}; } | crontab -`, "adding the agent's @reboot line")).code === 0;
        meta.boot = cron ? "crontab" : "none";
      }
      await this.writeFile(session, `${dir}/meta.json`, JSON.stringify(meta));
    } finally {
      session.close();
    }
  }

  async terminate(providerId: string): Promise<void> {
    const { host, instance } = this.parse(providerId);
    const dir = this.dir(instance);
    const session = await SshSession.connect(this.target(host));
    try {
      if ((await session.exec(`test -d ${q(dir)}`, "looking for the install")).code !== 0) return;
      const unit = this.unit(instance);
      await session.exec(`if [ -f /etc/systemd/system/${unit} ]; then systemctl disable --now ${unit}; rm -f /etc/systemd/system/${unit}; systemctl daemon-reload; fi`, "removing the agent's unit");
      await session.exec(`command -v crontab >/dev/null && crontab -l 2>/dev/null | grep -q -F ${q(`${dir}/run-agent.sh`)} && crontab -l | grep -v -F ${q(`${dir}/run-agent.sh`)} | crontab -`, "removing the agent's @reboot line");
      await session.must(`${q(this.settings.node)} -e ${q(KILL_SCRIPT)} ${q(dir)}`, "stopping the agent and its replicas");
      if (this.settings.keep_logs) {
        const logs = `${this.settings.install_dir}/logs/${instance}`;
        await session.exec(`mkdir -p ${q(logs)} && cp ${q(`${dir}/agent.log`)} ${q(logs)}/ 2>/dev/null; cp -r ${q(`${dir}/home/agent/replicas`)} ${q(`${logs}/replicas`)} 2>/dev/null; true`, "keeping the logs");
      }
      await session.must(`rm -rf ${q(dir)}`, "removing the install");
    } finally {
      session.close();
    }
  }

  async address(providerId: string): Promise<string | null> {
    return this.parse(providerId).host.address;
  }

  async exists(providerId: string): Promise<boolean> {
    const { host, instance } = this.parse(providerId);
    const session = await SshSession.connect(this.target(host));
    try {
      return (await session.exec(`test -f ${q(`${this.dir(instance)}/meta.json`)}`, "looking for the instance")).code === 0;
    } finally {
      session.close();
    }
  }

  async list(): Promise<ProviderInstance[]> {
    return (await this.scan()).installs
      .filter((t) => t.meta.cluster === this.context.cluster && t.meta.pool === this.context.pool)
      .map((t) => ({ providerId: this.providerId(t.host, t.meta.instance), instance: t.meta.instance, state: t.running ? ("running" as const) : ("stopped" as const), address: t.host.address }));
  }

  /** Every drover install on every reachable host (of any cluster: a host runs one agent), and the hosts that did not answer. */
  private async scan(): Promise<{ installs: Array<{ host: SshSettings["hosts"][number]; meta: Meta; running: boolean }>; unreachable: Map<SshSettings["hosts"][number], string> }> {
    const unreachable = new Map<SshSettings["hosts"][number], string>();
    const perHost = await Promise.all(
      this.settings.hosts.map(async (host) => {
        let session: SshSession;
        try {
          session = await SshSession.connect(this.target(host));
        } catch (error) {
          // A host that cannot be reached now is not one whose instances are gone: it is left out, and said.
          if (error instanceof ProviderError) throw error;
          unreachable.set(host, (error as Error).message);
          this.context.log(`ssh provider: ${(error as Error).message}`);
          return [];
        }
        try {
          const dir = q(this.settings.install_dir);
          const out = (await session.exec(`for f in ${dir}/*/meta.json; do [ -f "$f" ] || continue; d=$(dirname "$f"); r=0; [ -f "$d/agent.pid" ] && kill -0 "$(cat "$d/agent.pid")" 2>/dev/null && r=1; echo "$r $(cat "$f")"; done`, "listing the installs")).stdout;
          return out
            .split("\n")
            .filter(Boolean)
            .map((line) => ({ host, running: line.startsWith("1 "), meta: JSON.parse(line.slice(2)) as Meta }))
            .filter((t) => t.meta.host === host.address);
        } finally {
          session.close();
        }
      }),
    );
    return { installs: perHost.flat(), unreachable };
  }

  private runScript(request: CreateRequest, address: string): string {
    const dir = this.dir(request.instance);
    const args = ["agent", "--server", request.join.servers.join(","), "--token-file", `${dir}/join-token`, "--ca-hash", request.join.caHash, "--name", request.instance, "--address", address];
    const labels = Object.entries(request.labels).map(([k, v]) => `${k}=${v}`).join(",");
    if (labels) args.push("--labels", labels);
    return `#!/bin/sh\n# drover agent for instance ${request.instance} of pool ${request.pool}\nexport DROVER_HOME=${q(`${dir}/home`)}\nexec ${q(this.settings.node)} ${q(`${dir}/app/dist/src/cli/main.js`)} ${args.map(q).join(" ")} >> ${q(`${dir}/agent.log`)} 2>&1\n`;
  }

  private unitFile(instance: string): string {
    return `[Unit]\nDescription=drover agent (instance ${instance})\nAfter=network-online.target\n\n[Service]\nExecStart=${this.dir(instance)}/run-agent.sh\nRestart=always\nRestartSec=2\nKillMode=process\n\n[Install]\nWantedBy=multi-user.target\n`;
  }

  private async writeFile(session: SshSession, file: string, content: string, mode = "644"): Promise<void> {
    await session.must(`umask 077 && printf '%s' ${q(content)} > ${q(file)} && chmod ${mode} ${q(file)}`, `writing ${file}`);
  }

  private unit(instance: string): string {
    return `drover-agent-${instance}.service`;
  }

  private dir(instance: string): string {
    return `${this.settings.install_dir}/${instance}`;
  }

  private providerId(host: SshSettings["hosts"][number], instance: string): string {
    return `${host.address}:${host.port}/${instance}`;
  }

  private parse(providerId: string): { host: SshSettings["hosts"][number]; instance: string } {
    const match = /^(.*):(\d+)\/([^/]+)$/.exec(providerId);
    const host = match && this.settings.hosts.find((h) => h.address === match[1] && h.port === Number(match[2]));
    if (!match || !host) throw new ProviderError(`${providerId} is not a host of this pool`);
    return { host, instance: match[3]! };
  }

  private target(host: SshSettings["hosts"][number]): SshTarget {
    return { address: host.address, port: host.port, user: this.settings.user, privateKeyFile: this.settings.private_key_file, knownHostsFile: this.settings.known_hosts_file, connectTimeoutMs: this.settings.connect_timeout, commandTimeoutMs: this.settings.command_timeout };
  }
}
