/**
 * Failure injection on the `local` and `exec` providers, as a table of cases run against each
 * (node-pool-failures-local.test.ts and node-pool-failures-exec.test.ts run it): a
 * create that fails, a machine that never boots, an instance that vanishes, heartbeats that stop
 * and resume, drover killed between "create" and "store", an instance the store never knew. After
 * every case the store and the provider agree: the same instances, all ready, as many as min.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { InstanceRecord, PoolView } from "../src/contract/index.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import type { Provider } from "../src/cluster/pools/provider.js";
import { LocalProvider, LOCAL_CATALOG } from "../src/cluster/pools/providers/local.js";
import { ExecProvider } from "../src/cluster/pools/providers/exec.js";
import { clusterUnavailable, TestCluster } from "./cluster-harness.js";
import { CLI, REPO, waitFor } from "./harness.js";
import { live, poolOf } from "./pool-harness.js";

const skip = clusterUnavailable();


interface Harness {
  cluster: TestCluster;
  /** The same provider code the server runs, for what a test does behind drover's back. */
  provider: Provider;
  descriptor(extra?: string): string;
  /** Switches a fault on (or off, with null). */
  inject(kind: "create-fails" | "never-boots", on: boolean): void;
  /** Makes the instance disappear at the provider, as a cloud console would. */
  vanish(instance: InstanceRecord): void;
  /** Stops (or resumes) everything the instance runs. */
  pause(instance: InstanceRecord, signal: "SIGSTOP" | "SIGCONT"): void;
}

const machine = LOCAL_CATALOG[0]!;

async function agreed(h: Harness, min = 2): Promise<boolean> {
  const pool = await poolOf(h.cluster);
  const atProvider = (await h.provider.list()).map((i) => i.instance).sort();
  const inStore = live(pool).map((i) => i.id).sort();
  return pool.instances.every((i) => !["provisioning", "booting", "joining", "draining", "terminating", "lost"].includes(i.state)) && inStore.length === min && live(pool).every((i) => i.state === "ready") && JSON.stringify(atProvider) === JSON.stringify(inStore);
}

function cases(h: () => Harness): Array<{ name: string; run: () => Promise<void> }> {
  const pool = () => poolOf(h().cluster);
  const drover = () => h().cluster.drover;
  return [
    {
      name: "create fails: the instance is failed with the provider's reason, the pool backs off and then recovers",
      run: async () => {
        h().inject("create-fails", true);
        try {
          assert.equal((await drover().run(["pool", "scale", "work", "3"])).code, 0);
          await waitFor("a failed create", async () => (await pool()).instances.some((i) => i.state === "failed" && /^provisioning failed: /.test(i.stateReason)), 30_000, 250);
        } finally {
          h().inject("create-fails", false);
        }
        await waitFor("three ready instances", async () => (await pool()).instances.filter((i) => i.state === "ready").length === 3, 60_000, 250);
        assert.equal((await drover().run(["pool", "scale", "work", "2"])).code, 0);
      },
    },
    {
      name: "boot never finishes: failed at boot_timeout, then terminated at the provider; a new one takes its place",
      run: async () => {
        h().inject("never-boots", true);
        try {
          assert.equal((await drover().run(["pool", "scale", "work", "3"])).code, 0);
          const timedOut = (i: InstanceRecord & { history: Array<{ to: string; reason: string }> }) => i.history.some((t) => t.to === "failed" && /^boot timeout: not a ready node 12s after/.test(t.reason));
          await waitFor("a boot timeout", async () => (await pool()).instances.some(timedOut), 40_000, 250);
          const failed = (await pool()).instances.find(timedOut)!;
          await waitFor("the failed instance terminated", async () => (await pool()).instances.find((i) => i.id === failed.id)?.state === "terminated", 20_000, 250);
          assert.ok(!(await h().provider.list()).some((i) => i.instance === failed.id), "nothing of it left at the provider");
        } finally {
          h().inject("never-boots", false);
        }
        assert.equal((await drover().run(["pool", "scale", "work", "2"])).code, 0);
      },
    },
    {
      name: "an instance vanishes at the provider: marked lost, then terminated; a new one keeps min",
      run: async () => {
        const victim = (await pool()).instances.find((i) => i.state === "ready")!;
        h().vanish(victim);
        await waitFor("the vanished instance marked so", async () => (await pool()).instances.find((i) => i.id === victim.id)?.state === "terminated", 30_000, 250);
        const history = (await pool()).instances.find((i) => i.id === victim.id)!.history;
        assert.ok(history.some((t) => t.to === "lost" && (t.reason === "the provider no longer has it" || /^heartbeats stopped/.test(t.reason))), JSON.stringify(history));
      },
    },
    {
      name: "heartbeats stop, then resume: lost while down, ready again (the same instance) when they come back",
      run: async () => {
        const victim = (await pool()).instances.find((i) => i.state === "ready")!;
        h().pause(victim, "SIGSTOP");
        try {
          await waitFor("the instance lost", async () => (await pool()).instances.find((i) => i.id === victim.id)?.state === "lost", 30_000, 250);
        } finally {
          h().pause(victim, "SIGCONT");
        }
        await waitFor("the instance ready again", async () => (await pool()).instances.find((i) => i.id === victim.id)?.state === "ready", 30_000, 250);
        const tail = (await pool()).instances.find((i) => i.id === victim.id)!.history.slice(-2);
        assert.deepEqual(tail.map((t) => [t.to, t.reason]), [["lost", tail[0]!.reason], ["ready", "heartbeats resumed"]]);
      },
    },
    {
      name: "drover killed between create and store: the intent is found at the provider by its tag and adopted; an instance the store never knew is terminated",
      run: async () => {
        const { cluster, provider } = h();
        cluster.drover.server!.kill("SIGKILL");
        await waitFor("the server gone", () => cluster.drover.server!.exitCode !== null || cluster.drover.server!.signalCode !== null, 5_000);
        const store = new SqliteStore(path.join(cluster.drover.home, "drover.db"));
        const now = Date.now();
        const intent: InstanceRecord = { id: "work-00c0de", pool: "work", machine, state: "provisioning", stateReason: "pool work has 2 of 3", stateSince: now, providerId: null, address: null, createdAt: now, updatedAt: now };
        await store.putInstance(intent);
        await store.updatePool("work", { desired: 3 });
        await store.close();
        // What the server did before it died: the provider made the machine (tagged), the store never heard.
        const join = { servers: ["0.0.0.0:1"], token: "unused", caHash: "sha256:00" };
        await provider.create({ instance: intent.id, pool: "work", cluster: clusterIds.get(cluster)!, machine, labels: {}, join });
        await provider.create({ instance: "work-0ff1ce", pool: "work", cluster: clusterIds.get(cluster)!, machine, labels: {}, join });
        await cluster.startServer(["--node-down-after", "5s"]);
        await waitFor("the intent adopted and ready", async () => (await poolOf(cluster)).instances.find((i) => i.id === intent.id)?.state === "ready", 40_000, 250);
        const adopted = (await poolOf(cluster)).instances.find((i) => i.id === intent.id)!;
        assert.match(adopted.history[1]!.reason, /^adopted: drover stopped while creating it, and the provider has it as /);
        await waitFor("the unknown instance terminated", async () => !(await provider.list()).some((i) => i.instance === "work-0ff1ce"), 20_000, 250);
        const leak = (await cluster.drover.json<Array<{ type: string; message: string }>>(["events", "-n", "1000", "-o", "json"])).find((e) => e.type === "InstanceLeakTerminated");
        assert.match(leak?.message ?? "", /tagged work-0ff1ce\), which the store does not know: terminated/);
        assert.equal((await cluster.drover.run(["pool", "scale", "work", "2"])).code, 0);
      },
    },
  ];
}

/** Each test cluster's id (providers tag instances with it), read from the API at the start. */
const clusterIds = new Map<TestCluster, string>();

function pidsIn(ns: string): number[] {
  return (spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "").split("\n").filter(Boolean).map(Number);
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

const PROVIDERS: Array<{ name: string; make: (cluster: TestCluster, id: string) => Harness }> = [
  {
    name: "local",
    make: (cluster, id) => {
      const settings = { bridge: cluster.bridge, subnet: cluster.subnet };
      let bridge = cluster.bridge;
      let blocked = false;
      const h: Harness = {
        cluster,
        provider: new LocalProvider({ home: cluster.drover.home, cluster: id, pool: "work", droverCommand: [process.execPath, CLI], packageRoot: REPO, log: () => undefined }, settings),
        descriptor: () => `apiVersion: drover/v1\nkind: NodePool\nmetadata: {name: work}\nspec:\n  provider: local\n  min: 2\n  max: 4\n  machine: small\n  scale_down_delay: 1h\n  boot_timeout: 12s\n  local: {bridge: ${bridge}, subnet: ${cluster.subnet}}\n`,
        inject: (kind, on) => {
          if (kind === "create-fails") {
            // A pool pointed at an interface that is no bridge: every create fails in `ip link set … master`.
            bridge = on ? "lo" : cluster.bridge;
            const file = cluster.drover.write("pool.yaml", h.descriptor());
            execFileSync(process.execPath, [CLI, "apply", "-f", file], { env: cluster.drover.env });
            return;
          }
          // New connections from the nodes' addresses (.96–.127) to the server are refused: new agents never join; joined ones keep their connections.
          const rule = ["INPUT", "-s", `${cluster.subnet}.96/27`, "-d", cluster.serverAddress, "-p", "tcp", "--dport", String(cluster.clusterPort), "-m", "conntrack", "--ctstate", "NEW", "-j", "REJECT"];
          if (on && !blocked) execFileSync("iptables", ["-I", ...rule]);
          if (!on && blocked) spawnSync("iptables", ["-D", ...rule]);
          blocked = on;
        },
        vanish: (instance) => {
          const ns = instance.providerId!;
          signalAll(pidsIn(ns), "SIGKILL");
          spawnSync("ip", ["netns", "del", ns]);
        },
        pause: (instance, signal) => signalAll(pidsIn(instance.providerId!), signal),
      };
      return h;
    },
  },
  {
    name: "exec",
    make: (cluster, id) => {
      const state = path.join(cluster.drover.home, "exec-provider", "nodes");
      fs.mkdirSync(state, { recursive: true });
      const fixture = path.join(REPO, "test/fixtures/flaky-provider.mjs");
      const environment = { LOOPBACK_NODES_DIR: state, DROVER_BIN: `${process.execPath} ${CLI}` };
      const meta = (instance: InstanceRecord) => JSON.parse(fs.readFileSync(path.join(state, instance.providerId!, "meta.json"), "utf8")) as { pid: number };
      return {
        cluster,
        provider: new ExecProvider({ home: cluster.drover.home, cluster: id, pool: "work", droverCommand: [], packageRoot: REPO, log: () => undefined }, { command: [process.execPath, fixture], timeout: 30_000, environment }),
        descriptor: () => `apiVersion: drover/v1\nkind: NodePool\nmetadata: {name: work}\nspec:\n  provider: exec\n  min: 2\n  max: 4\n  machine: small\n  scale_down_delay: 1h\n  boot_timeout: 12s\n  exec:\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture)}]\n    environment: ${JSON.stringify(environment)}\n`,
        inject: (kind, on) => {
          const file = path.join(path.dirname(state), kind === "create-fails" ? "inject-create" : "inject-start");
          if (on) fs.writeFileSync(file, kind === "create-fails" ? "fail" : "noop");
          else fs.rmSync(file, { force: true });
        },
        vanish: (instance) => {
          signalAll([meta(instance).pid], "SIGKILL");
          fs.rmSync(path.join(state, instance.providerId!), { recursive: true, force: true });
        },
        pause: (instance, signal) => signalAll([meta(instance).pid], signal),
      };
    },
  },
];

/** The table of cases against one provider, in a suite of its own (one test file per provider, so they run side by side). */
export function failureSuite(name: "local" | "exec"): void {
  const { make } = PROVIDERS.find((p) => p.name === name)!;
  describe(`failure injection on the ${name} provider: the store and the provider agree after every case`, { skip: skip ?? false }, () => {
    let harness: Harness;
    before(async () => {
      const cluster = await TestCluster.create(0);
      cluster.drover.env.DROVER_POOL_TICK_MS = "250";
      cluster.drover.env.DROVER_POOL_SYNC_MS = "1000";
      await cluster.startServer(["--node-down-after", "5s"]);
      // The cluster id is made by the first pool view; the test's own provider needs it.
      const first = make(cluster, "");
      assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("pool.yaml", first.descriptor())])).code, 0);
      const id = (await cluster.drover.json<PoolView>(["pool", "describe", "work", "-o", "json"])).cluster;
      clusterIds.set(cluster, id);
      harness = make(cluster, id);
      await waitFor("min 2 ready and agreed", () => agreed(harness), 60_000, 250);
    });
    after(async () => {
      if (!harness) return;
      harness.inject("never-boots", false);
      if (name === "exec") await Promise.all((await harness.provider.list()).map((i) => harness.provider.terminate(i.providerId))).catch(() => undefined);
      await harness.cluster.cleanup();
    });

    for (const c of cases(() => harness)) {
      test(c.name, async () => {
        await c.run();
        await waitFor("the store and the provider to agree (min 2, all ready)", () => agreed(harness), 60_000, 250);
      });
    }

    if (name === "exec") {
      test("kill -9 of the server while the provider's create is answering: the machine it made is found by its tag and adopted, nothing leaks", async () => {
        const { cluster } = harness;
        const dir = path.join(cluster.drover.home, "exec-provider");
        fs.writeFileSync(path.join(dir, "inject-create"), "slow");
        try {
          assert.equal((await cluster.drover.run(["pool", "scale", "work", "3"])).code, 0);
          // The provider has made the machine; drover is still waiting for the answer, so has stored only the intent.
          await waitFor("the provider's create done", () => fs.existsSync(path.join(dir, "create-done")), 30_000, 50);
          const intent = (await poolOf(cluster)).instances.find((i) => i.state === "provisioning")!;
          assert.equal(intent.providerId, null);
          cluster.drover.server!.kill("SIGKILL");
          await waitFor("the server gone", () => cluster.drover.server!.exitCode !== null || cluster.drover.server!.signalCode !== null, 5_000);
          // The provider's call would answer no one now.
          signalAll([Number(fs.readFileSync(path.join(dir, "create-done"), "utf8"))], "SIGKILL");
        } finally {
          fs.rmSync(path.join(dir, "inject-create"), { force: true });
          fs.rmSync(path.join(dir, "create-done"), { force: true });
        }
        await cluster.startServer(["--node-down-after", "5s"]);
        await waitFor("three ready instances", async () => (await poolOf(cluster)).instances.filter((i) => i.state === "ready").length === 3, 60_000, 250);
        const adopted = (await poolOf(cluster)).instances.find((i) => i.history.some((t) => /^adopted: drover stopped while creating it/.test(t.reason)));
        assert.ok(adopted, "the instance made before the crash was adopted, not made again");
        assert.equal((await harness.provider.list()).length, 3, "and the provider has exactly the three");
        assert.equal((await cluster.drover.run(["pool", "scale", "work", "2"])).code, 0);
        await waitFor("the store and the provider to agree (min 2, all ready)", () => agreed(harness), 60_000, 250);
      });

      test("a provider that prints garbage is refused: the pool is marked failed with the output's first lines, and recovers once it answers right", async () => {
        const { cluster } = harness;
        const inject = path.join(cluster.drover.home, "exec-provider", "inject-create");
        fs.writeFileSync(inject, "garbage");
        try {
          assert.equal((await cluster.drover.run(["pool", "scale", "work", "3"])).code, 0);
          await waitFor("the pool's problem", async () => (await poolOf(cluster)).problem !== null, 30_000, 250);
          const pool = await poolOf(cluster);
          assert.match(pool.problem!, /^the exec provider \(.*flaky-provider\.mjs create\) did not answer JSON; its output began: <html>502 Bad Gateway<\/html> \/ upstream timed out$/);
          assert.ok(pool.instances.some((i) => i.state === "failed" && i.stateReason === `provisioning failed: ${pool.problem}`));
          const ls = await cluster.drover.run(["pool", "ls"]);
          assert.match(ls.stdout, /the exec provider .* did not answer JSON/);
        } finally {
          fs.rmSync(inject, { force: true });
        }
        await waitFor("three ready instances, the problem gone", async () => {
          const pool = await poolOf(cluster);
          return pool.problem === null && pool.instances.filter((i) => i.state === "ready").length === 3;
        }, 60_000, 250);
        assert.equal((await cluster.drover.run(["pool", "scale", "work", "2"])).code, 0);
        await waitFor("the store and the provider to agree (min 2, all ready)", () => agreed(harness), 60_000, 250);
      });
    }
  });
}

