/**
 * High availability: three servers on one real PostgreSQL, two agents in network namespaces.
 * The leader is killed (-9) during a rolling update under load, paused with SIGSTOP past its
 * lease, and the database is restarted under everything.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { EventRecord, ReplicaRecord, RolloutStatusView } from "../src/contract/index.js";
import { clusterService as service, clusterUnavailable, readyByNode, TestCluster } from "./cluster-harness.js";
import { CLI, Drover, freePort, loadDuring, loadSummary, waitFor } from "./harness.js";
import { TestPostgres } from "./postgres-harness.js";

const skip = clusterUnavailable();

interface Server {
  drover: Drover;
  clusterPort: number;
}

describe("high availability: three servers on one PostgreSQL, agents in network namespaces", { skip: skip ?? false }, () => {
  let postgres: TestPostgres;
  let cluster: TestCluster;
  const servers: Server[] = [];
  let port: number;

  async function role(server: Server): Promise<"leader" | "standby" | null> {
    try {
      const response = await fetch(`${server.drover.url}/readyz`);
      return response.ok ? ((await response.json()) as { role: "leader" | "standby" }).role : null;
    } catch {
      return null;
    }
  }
  const leader = async (among = servers) => {
    const roles = await Promise.all(among.map(role));
    return roles.filter((r) => r === "leader").length === 1 ? among[roles.indexOf("leader")] : undefined;
  };
  const alive = (server: Server) => server.drover.server!.exitCode === null && server.drover.server!.signalCode === null;
  const replicas = (via: Server) => via.drover.json<ReplicaRecord[]>(["ps", "test/web"]);
  const start = (server: Server) => cluster.startServerOf(server.drover, server.clusterPort);

  before(async () => {
    postgres = await TestPostgres.start();
    const env = { DROVER_STORE: await postgres.createDatabase(), DROVER_MASTER_KEY: crypto.randomBytes(32).toString("base64") };
    cluster = await TestCluster.create(2);
    for (let i = 0; i < 3; i++) {
      const drover = i === 0 ? cluster.drover : await Drover.create();
      Object.assign(drover.env, env);
      servers.push({ drover, clusterPort: await freePort() });
    }
    cluster.clusterPort = servers[0]!.clusterPort;
    cluster.agentServers = servers.map((s) => `${cluster.serverAddress}:${s.clusterPort}`);
    await start(servers[0]!);
    await waitFor("the first server to lead", async () => (await role(servers[0]!)) === "leader");
    await start(servers[1]!);
    await start(servers[2]!);
    await waitFor("one leader, two standbys", async () => JSON.stringify(await Promise.all(servers.map(role))) === JSON.stringify(["leader", "standby", "standby"]));
    // The join line from a standby names every server; agents are given all three.
    const join = await waitFor("a join line naming every server", async () => {
      const line = await servers[1]!.drover.json<{ command: string }>(["node", "join-token"]);
      return servers.every((s) => line.command.includes(`${cluster.serverAddress}:${s.clusterPort}`)) ? line : undefined;
    }, 10_000, 200);
    assert.match(join.command, /^drover agent --server \S+,\S+,\S+ --token/);
    for (const i of [1, 2]) await cluster.startAgent(i);
    await waitFor("two ready nodes", async () => (await servers[2]!.drover.json<Array<{ state: string }>>(["node", "ls"])).filter((n) => n.state === "ready").length === 2, 30_000);
    port = await freePort();
  });
  after(async () => {
    await cluster?.cleanup();
    for (const s of servers.slice(1)) fs.rmSync(s.drover.home, { recursive: true, force: true });
    await postgres?.close();
  });

  test("kill -9 of the leader during a rolling update under load: a standby leads within 12 s, the rollout completes once, no request fails", async () => {
    const [first, second, third] = servers as [Server, Server, Server];
    // A standby takes the apply and wakes the leader; a standby's event stream shows the leader's events.
    const stream = spawn(process.execPath, [CLI, "events", "-f"], { env: third.drover.env });
    let streamed = "";
    stream.stdout.on("data", (chunk) => (streamed += chunk));
    try {
      const applied = await second.drover.run(["apply", "-y", "-f", second.drover.write("web.yaml", service("web", port, 4, "  deployment: {strategy: rolling, rolling: {max_surge: 1, max_unavailable: 0}}\n"))]);
      assert.equal(applied.code, 0, applied.stderr);
      await waitFor("4 ready replicas", async () => (await replicas(second)).filter((r) => r.state === "ready").length === 4, 30_000);
      await waitFor("the leader's events on a standby's stream", () => /ReplicaReady/.test(streamed) && /RevisionCreated/.test(streamed), 10_000);
      assert.deepEqual(Object.values(readyByNode(await replicas(second))).sort(), [2, 2]);

      const updated = service("web", port, 4, "  deployment: {strategy: rolling, rolling: {max_surge: 1, max_unavailable: 0}}\n  configuration: {environment: {MESSAGE: v2}}\n");
      let killedAt = 0;
      let newLeaderAfterMs = 0;
      const rolled = (async () => {
        const update = await second.drover.run(["apply", "-y", "-f", second.drover.write("web-2.yaml", updated)]);
        assert.equal(update.code, 0, update.stderr);
        // Under way: the first replica of revision 2 is up, the others not yet.
        await waitFor("the rollout under way", async () => (await replicas(second)).some((r) => r.revision === 2), 20_000, 20);
        first.drover.server!.kill("SIGKILL");
        killedAt = Date.now();
        const next = await waitFor("a new leader", () => leader([second, third]), 20_000, 50);
        newLeaderAfterMs = Date.now() - killedAt;
        return waitFor("every replica on revision 2 and ready", async () => {
          const list = await replicas(next);
          return list.length === 4 && list.every((r) => r.revision === 2 && r.state === "ready");
        }, 90_000);
      })();
      const load = await loadDuring(port, rolled, 4, cluster.address(1));
      assert.ok(newLeaderAfterMs > 0 && newLeaderAfterMs <= 12_000, `a new leader after ${newLeaderAfterMs} ms`);
      process.stdout.write(`# leader killed mid-rollout: a new leader after ${newLeaderAfterMs} ms; ${load.requests} requests, 0 failed\n`);
      assert.ok(load.requests > 100, `${load.requests} requests`);
      assert.equal(load.failed, 0, loadSummary(load));
      assert.ok((load.revisions["1"] ?? 0) > 0 && (load.revisions["2"] ?? 0) > 0, JSON.stringify(load.revisions));

      // Carried on, not done twice: one rollout to revision 2, each replica started once, exactly 4 of revision 2.
      const via = (await leader([second, third]))!;
      const status = await via.drover.json<RolloutStatusView>(["rollout", "status", "web"]);
      assert.deepEqual(status.history.filter((r) => r.toRevision === 2).map((r) => r.state), ["succeeded"]);
      const events = await via.drover.json<EventRecord[]>(["events", "-s", "test/web", "-n", "1000"]);
      const starts = new Map<string, number>();
      for (const e of events.filter((e) => e.type === "ReplicaStarted")) starts.set(e.replica!, (starts.get(e.replica!) ?? 0) + 1);
      assert.deepEqual([...starts.values()].filter((n) => n > 1), [], "no replica started twice");
      assert.equal(starts.size, 8, "4 of revision 1 and 4 of revision 2, no more");
      assert.ok(events.some((e) => e.type === "ReplicaAdopted" && e.time > killedAt), "the new leader adopted the agents' replicas");

      // The old leader comes back as a standby.
      await start(first);
      await waitFor("the old leader back as a standby", async () => (await role(first)) === "standby");
    } finally {
      stream.kill();
    }
  });

  test("SIGSTOP of the leader past its lease: another leads; on SIGCONT the old one writes nothing and stands by", async () => {
    const paused = (await leader())!;
    const others = servers.filter((s) => s !== paused && alive(s));
    const before = await replicas(others[0]!);
    const stoppedAt = Date.now();
    paused.drover.server!.kill("SIGSTOP");
    try {
      const next = await waitFor("a new leader", () => leader(others), 20_000, 50);
      // While the old leader sleeps, the new one scales the service: the old one's view is stale.
      assert.equal((await others.find((s) => s !== next)!.drover.run(["scale", "web", "5"])).code, 0);
      await waitFor("5 ready replicas", async () => (await replicas(next)).filter((r) => r.state === "ready").length === 5, 30_000);
      await waitFor("20 s of pause", () => Date.now() - stoppedAt >= 20_000, 30_000, 100);
    } finally {
      paused.drover.server!.kill("SIGCONT");
    }
    const resumedAt = Date.now();
    await waitFor("the old leader to stand by", async () => (await role(paused)) === "standby", 10_000);
    const log = fs.readFileSync(path.join(paused.drover.home, "server.log"), "utf8");
    assert.match(log, /no longer leads \(term \d+\)/);
    // Two seconds of the old leader awake: had it acted on what it knew (nodes silent for 20 s, 4 replicas), nodes would be down and a replica gone.
    await waitFor("two seconds after SIGCONT", () => Date.now() - resumedAt >= 2_000, 5_000, 100);
    const after = await replicas(others[0]!);
    assert.equal(after.filter((r) => r.state === "ready").length, 5);
    for (const r of before) assert.ok(after.some((a) => a.id === r.id && a.pid === r.pid), `${r.id} untouched`);
    const late = (await others[0]!.drover.json<EventRecord[]>(["events", "-n", "200"])).filter((e) => e.time >= resumedAt);
    assert.deepEqual(late.filter((e) => /^Node(NotReady|Down)$|^Replica(Lost|Stopped|Removed)$/.test(e.type)).map((e) => e.type), []);
    const nodes = await paused.drover.json<Array<{ state: string }>>(["node", "ls"]);
    assert.deepEqual(nodes.map((n) => n.state), ["ready", "ready"]);
  });

  test("PostgreSQL restarted under drover: replicas keep serving, servers reconnect, nothing is lost", async () => {
    const live = servers.filter(alive);
    const before = await replicas(live[0]!);
    const restarted = (async () => {
      await postgres.stop();
      await waitFor("the servers to see the store gone", async () => {
        const answers = await Promise.all(live.map((s) => fetch(`${s.drover.url}/readyz`).then((r) => r.status, () => 0)));
        return answers.every((status) => status === 503);
      }, 10_000);
      await postgres.resume();
      await waitFor("every server ready again, one leading", async () => (await Promise.all(live.map(role))).every((r) => r !== null) && (await leader(live)) !== undefined, 30_000);
    })();
    const load = await loadDuring(port, restarted, 4, cluster.address(2));
    assert.equal(load.failed, 0, loadSummary(load));
    const after = await replicas(live[0]!);
    assert.deepEqual(after.map((r) => [r.id, r.pid]).sort(), before.map((r) => [r.id, r.pid]).sort(), "replicas untouched");
    // Wake-ups flow again: a change through a standby reaches the leader.
    const roles = await Promise.all(live.map(role));
    const standby = live[roles.indexOf("standby")] ?? live[0]!;
    assert.equal((await standby.drover.run(["scale", "web", "3"])).code, 0);
    await waitFor("3 replicas", async () => (await replicas(live[0]!)).length === 3, 30_000);
    const history = await live[0]!.drover.json<Array<{ number: number }>>(["history", "web"]);
    assert.deepEqual(history.map((r) => r.number), [1, 2], "nothing lost");
  });
});
