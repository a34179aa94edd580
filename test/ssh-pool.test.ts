/**
 * An `ssh` pool against real OpenSSH servers (Debian's sshd), one in each of two network
 * namespaces: drover installs itself on both, the agents join and run replicas, and terminating
 * leaves nothing behind on a host. A wrong host key and an unreachable host fail clearly, in time.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { EventRecord } from "../src/contract/index.js";
import { clusterService, clusterUnavailable, readyByNode, replicasOf, TestCluster } from "./cluster-harness.js";
import { freePort, waitFor } from "./harness.js";
import { live, poolOf } from "./pool-harness.js";

const skip = clusterUnavailable() ?? (fs.existsSync("/usr/sbin/sshd") ? null : "needs OpenSSH's sshd (apt-get install openssh-server)") ?? (spawnSync("sh", ["-c", "command -v crontab"]).status === 0 ? null : "needs crontab, for the agent's start at boot (apt-get install cron)");

describe("an ssh node pool on two hosts (sshd in network namespaces)", { skip: skip ?? false }, () => {
  let cluster: TestCluster;
  let keys: string;
  const installDir = () => path.join(cluster.drover.home, "hosts-install");
  /** A host's root crontab: each host has a spool of its own, as separate machines do. */
  const crontab = (address: string) => {
    const file = path.join(keys, `sshd${address === cluster.address(1) ? 1 : 2}-crontabs`, "root");
    return (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "").split("\n").filter((line) => line && !line.startsWith("#"));
  };

  function sshPool(name: string, hosts: string[], extra: { knownHosts?: string; min?: number; max?: number; timeout?: string; commandTimeout?: string } = {}): string {
    return `apiVersion: drover/v1
kind: NodePool
metadata: {name: ${name}}
spec:
  provider: ssh
  min: ${extra.min ?? 0}
  max: ${extra.max ?? hosts.length}
  machine: {cpu: 1, memory: 1Gi}
  boot_timeout: 120s
  scale_down_delay: 1h
  autoscale: false
  ssh:
    hosts: [${hosts.join(", ")}]
    user: root
    private_key_file: ${path.join(keys, "client")}
    known_hosts_file: ${extra.knownHosts ?? path.join(keys, "known_hosts")}
    install_dir: ${installDir()}
    node: ${process.execPath}
    connect_timeout: ${extra.timeout ?? "5s"}
    command_timeout: ${extra.commandTimeout ?? "60s"}
`;
  }

  before(async () => {
    cluster = await TestCluster.create(2);
    cluster.drover.env.DROVER_POOL_TICK_MS = "250";
    cluster.drover.env.DROVER_POOL_SYNC_MS = "2000";
    keys = path.join(cluster.drover.home, "keys");
    fs.mkdirSync(keys, { recursive: true });
    fs.mkdirSync("/run/sshd", { recursive: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keys, "client")]);
    fs.copyFileSync(path.join(keys, "client.pub"), path.join(keys, "authorized_keys"));
    const known: string[] = [];
    /**
     * An sshd in a node's namespace, with root's home an empty folder of its own (in a mount
     * namespace of the host's own) holding `bashrc` if given — a fresh host, not this machine's
     * shell startup files — and a crontab spool of its own (two hosts editing one crontab at once
     * would race, which separate machines never do).
     */
    const startHost = (name: string, node: number, port: number, bashrc?: string) => {
      const hostKey = path.join(keys, `${name}-key`);
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
      const key = fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
      known.push(`${port === 22 ? cluster.address(node) : `[${cluster.address(node)}]:${port}`} ${key}`);
      const config = path.join(keys, `${name}.conf`);
      fs.writeFileSync(config, [`Port ${port}`, `ListenAddress ${cluster.address(node)}`, `HostKey ${hostKey}`, `PidFile ${path.join(keys, `${name}.pid`)}`, `AuthorizedKeysFile ${path.join(keys, "authorized_keys")}`, "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "Subsystem sftp internal-sftp", ""].join("\n"));
      const home = path.join(keys, `${name}-home`);
      fs.mkdirSync(home, { mode: 0o700 });
      if (bashrc) fs.writeFileSync(path.join(home, ".bashrc"), bashrc);
      const spool = path.join(keys, `${name}-crontabs`);
      fs.mkdirSync(spool);
      const system = fs.statSync("/var/spool/cron/crontabs");
      fs.chownSync(spool, system.uid, system.gid);
      fs.chmodSync(spool, system.mode & 0o7777);
      const log = fs.openSync(path.join(keys, `${name}.log`), "a");
      const hostShell = 'mount --bind "$0" /root && mount --bind "$2" /var/spool/cron/crontabs && exec /usr/sbin/sshd -D -e -f "$1"';
      spawn("nsenter", [`--net=/run/netns/${cluster.namespace(node)}`, "unshare", "--mount", "--propagation", "private", "sh", "-c", hostShell, home, config, spool], { stdio: ["ignore", log, log], detached: true }).unref();
      fs.closeSync(log);
    };
    startHost("sshd1", 1, 22);
    startHost("sshd2", 2, 22);
    // A host whose login shell never gets to the command (its ~/.bashrc waits forever).
    startHost("stuck", 1, 2222, "sleep 600\n");
    fs.writeFileSync(path.join(keys, "known_hosts"), `${known.join("\n")}\n`);
    // Host 1's entry with host 2's key: the wrong key for host 1.
    fs.writeFileSync(path.join(keys, "wrong_known_hosts"), `${cluster.address(1)} ${known[1]!.split(" ").slice(1).join(" ")}\n`);
    await cluster.startServer();
  });
  // The hosts' crontab spools go with the test's home.
  after(async () => cluster?.cleanup());

  /** What a failure needs explained: the pool, the sshd logs and the server's last lines. */
  const diagnostics = async () => {
    const tail = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").slice(-1500) : `(no ${file})`);
    return [(await cluster.drover.run(["pool", "describe", "hosts"])).stdout, tail(path.join(keys, "sshd1.log")), tail(path.join(keys, "sshd2.log")), tail(path.join(cluster.drover.home, "server.log"))].join("\n---\n");
  };

  const agentProcesses = (instance: string) => (spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout ?? "").split("\n").filter((line) => line.includes(`${installDir()}/${instance}/`));

  test("two hosts: drover installs itself, the agents join and run replicas; terminate leaves no process and no file on the host", async () => {
    const hosts = [cluster.address(1), cluster.address(2)];
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("ssh.yaml", sshPool("hosts", hosts))])).code, 0);
    const started = Date.now();
    assert.equal((await cluster.drover.run(["pool", "scale", "hosts", "2"])).code, 0);
    await waitFor("two ready instances", async () => (await poolOf(cluster, "hosts")).instances.filter((i) => i.state === "ready").length === 2, 150_000, 500).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await diagnostics()}`);
    });
    process.stdout.write(`# ssh pool: two hosts installed and ready in ${Date.now() - started} ms\n`);
    const pool = await poolOf(cluster, "hosts");
    assert.deepEqual(pool.instances.map((i) => i.address).sort(), [...hosts].sort());
    for (const instance of pool.instances) {
      assert.ok(fs.existsSync(path.join(installDir(), instance.id, "app", "dist", "src", "cli", "main.js")), "drover installed from its own package");
      assert.equal(fs.statSync(path.join(installDir(), instance.id, "join-token")).mode & 0o777, 0o600, "the join token readable by its owner alone");
      assert.equal(agentProcesses(instance.id).length, 1, "the agent runs, detached from the SSH session that started it");
      // No systemd here: the agent starts again at boot from an @reboot crontab line.
      assert.deepEqual(crontab(instance.address!), [`@reboot ${installDir()}/${instance.id}/run-agent.sh`]);
    }

    const port = await freePort();
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("web.yaml", clusterService("web", port, 2))])).code, 0);
    await waitFor("a replica ready on each host", async () => Object.keys(readyByNode(await replicasOf(cluster, "test/web"))).length === 2, 30_000, 250);
    const body = (await (await fetch(`http://${hosts[0]}:${port}/`)).json()) as { service: string };
    assert.equal(body.service, "web");

    const victim = pool.instances.find((i) => i.address === hosts[1])!;
    assert.equal((await cluster.drover.run(["pool", "scale", "hosts", "1"])).code, 0);
    await waitFor("the instance terminated", async () => (await poolOf(cluster, "hosts")).instances.find((i) => i.id === victim.id)?.state === "terminated", 60_000, 250);
    assert.deepEqual(agentProcesses(victim.id), [], "no process of it left on the host");
    assert.ok(!fs.existsSync(path.join(installDir(), victim.id)), "no file of it left on the host");
    assert.deepEqual(crontab(victim.address!), [], "no crontab line of it left");
    await waitFor("both replicas on the remaining host", async () => (readyByNode(await replicasOf(cluster, "test/web"))[pool.instances.find((i) => i.id !== victim.id)!.id] ?? 0) === 2, 30_000, 250);
    assert.equal(live(await poolOf(cluster, "hosts")).length, 1);
  });

  test("a wrong host key is refused with a clear message, nothing is installed; an unreachable host fails within its connect timeout", async () => {
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("bad.yaml", sshPool("badkey", [cluster.address(1)], { knownHosts: path.join(keys, "wrong_known_hosts"), min: 1 }))])).code, 0);
    await waitFor("the pool's problem", async () => (await poolOf(cluster, "badkey")).problem !== null, 30_000, 250);
    const bad = await poolOf(cluster, "badkey");
    assert.match(bad.problem!, new RegExp(`the host key of ${cluster.address(1).replace(/\./g, "\\.")} \\(SHA256:[^)]+\\) does not match .*wrong_known_hosts: refusing to connect`));
    // Refused before anything was sent: the pool's first look at its hosts (or its first create) stops there.
    assert.ok(bad.instances.every((i) => i.state === "failed" && /^provisioning failed: the host key of/.test(i.stateReason)), JSON.stringify(bad.instances));
    assert.ok(!fs.readdirSync(installDir()).some((dir) => dir.startsWith("badkey-")), "nothing installed");
    const ls = await cluster.drover.run(["pool", "ls"]);
    assert.match(ls.stdout, /badkey\s+ssh\s+custom\s+1\/1\/1\s+(none|1 failed)\s+no\s+the host key of/);

    const gone = `${cluster.subnet}.250`;
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("gone.yaml", sshPool("gone", [gone], { min: 1, timeout: "2s" }))])).code, 0);
    await waitFor("the unreachable host's instance failed", async () => (await poolOf(cluster, "gone")).instances.some((i) => i.state === "failed"), 20_000, 250);
    const failed = (await poolOf(cluster, "gone")).instances.find((i) => i.state === "failed")!;
    const took = failed.history.at(-1)!.at - failed.history[0]!.at;
    // Whichever comes first: the connect timeout, or the kernel giving up on the address (no ARP answer).
    const at = `root@${gone.replace(/\./g, "\\.")}:22`;
    assert.match(failed.stateReason, new RegExp(`^provisioning failed: no free host answers: (cannot reach ${at} within 2000 ms|ssh ${at}: connect EHOSTUNREACH)`));
    assert.ok(took < 4_000, `failed in ${took} ms, not hung`);

    // A host that takes the connection but whose commands never run: the step fails, named, within command_timeout.
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("stuck.yaml", sshPool("stuck", [`{address: ${cluster.address(1)}, port: 2222}`], { min: 1, commandTimeout: "2s" }))])).code, 0);
    await waitFor("the stuck host's instance failed", async () => (await poolOf(cluster, "stuck")).instances.some((i) => i.state === "failed"), 20_000, 250);
    const stuck = (await poolOf(cluster, "stuck")).instances.find((i) => i.state === "failed")!;
    assert.match(stuck.stateReason, new RegExp(`^provisioning failed: .*on ${cluster.address(1).replace(/\./g, "\\.")} did not finish within 2 s \\(does the login shell's startup, e\\.g\\. ~/\\.bashrc, wait on something\\?\\)`));
    assert.ok(stuck.history.at(-1)!.at - stuck.history[0]!.at < 6_000, "failed within its command timeout, not hung");
    assert.ok(!fs.readdirSync(installDir()).some((dir) => dir.startsWith("stuck-")), "nothing installed");
    const events = await cluster.drover.json<EventRecord[]>(["events", "-n", "1000", "-o", "json"]);
    assert.ok(events.some((e) => e.type === "NodePoolFailed" && e.message.startsWith("pool badkey: the host key of")));
  });
});
