import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EventRecord } from "../src/contract/index.js";
import { clusterService as service, clusterUnavailable, nodesOf, readyByNode as readyBy, replicasOf, TestCluster } from "./cluster-harness.js";
import { freePort, loadDuring, loadSummary, waitFor } from "./harness.js";

const skip = clusterUnavailable();

describe("many machines: placement, the routing mesh, node failure and drain (agents in network namespaces)", { skip: skip ?? false }, () => {
  let cluster: TestCluster;
  let port: number;
  const nodes = () => nodesOf(cluster);
  const replicas = (svc = "test/web") => replicasOf(cluster, svc);

  before(async () => {
    cluster = await TestCluster.create(3);
    await cluster.startServer();
    port = await freePort();
    for (const i of [1, 2, 3]) await cluster.startAgent(i);
    await waitFor("three ready nodes", async () => (await nodes()).filter((n) => n.state === "ready").length === 3, 20_000);
  });
  after(async () => {
    await cluster?.cleanup();
  });

  test("a 6-replica service spreads 2 per node, and a client through any node's address reaches every replica", async () => {
    const applied = await cluster.drover.run(["apply", "-f", cluster.drover.write("web.yaml", service("web", port, 6))]);
    assert.equal(applied.code, 0, applied.stderr);
    await waitFor("6 ready replicas", async () => Object.values(readyBy(await replicas())).reduce((a, b) => a + b, 0) === 6, 20_000);
    assert.deepEqual(readyBy(await replicas()), { node1: 2, node2: 2, node3: 2 });
    const ids = new Set((await replicas()).map((r) => r.id));
    for (const i of [1, 2, 3]) {
      const seen = new Set<string>();
      await waitFor(`every replica answering through node${i}'s address`, async () => {
        const body = (await (await fetch(`http://${cluster.address(i)}:${port}/`)).json()) as { replica: string };
        seen.add(body.replica);
        return seen.size === ids.size;
      }, 10_000, 0);
      assert.deepEqual(seen, ids, `through node${i}`);
    }
    const top = await cluster.drover.run(["top", "--once"]);
    for (const i of [1, 2, 3]) assert.match(top.stdout, new RegExp(`node node${i} \\(ready, 2 replicas\\)`));
    const metrics = await (await fetch(`${cluster.drover.url}/metrics`, { headers: cluster.drover.authorization() })).text();
    assert.match(metrics, /drover_node_state\{node="node2",state="ready"\} 1/);
    assert.match(metrics, /drover_node_replicas\{node="node3"\} 2/);
    assert.match(metrics, /drover_replica_state\{[^}]*node="node1"[^}]*\} 1/);
  });

  test("node loss: kill -9 of a node's agent and replicas → 6 ready on the others within 15 s; its return leaves exactly 6", async () => {
    const before = await replicas();
    const started = Date.now();
    cluster.killNode(1);
    await waitFor("6 ready replicas on node2 and node3", async () => {
      const counts = readyBy(await replicas());
      return (counts.node2 ?? 0) + (counts.node3 ?? 0) === 6;
    }, 20_000, 100);
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= 15_000, `replaced in ${elapsed} ms`);
    const lost = (await replicas()).filter((r) => r.state === "lost");
    assert.deepEqual(lost.map((r) => r.id).sort(), before.filter((r) => r.node === "node1").map((r) => r.id).sort());
    const events = await cluster.drover.eventsOf("test/web");
    assert.equal(events.filter((e) => e.type === "ReplicaLost").length, 2);

    await cluster.startAgent(1, { token: null });
    await waitFor("node1 back, the lost replicas forgotten", async () => (await nodes()).find((n) => n.name === "node1")?.state === "ready" && (await replicas()).every((r) => r.state !== "lost"), 15_000);
    const after = await replicas();
    assert.equal(after.length, 6);
    assert.equal(after.filter((r) => r.state === "ready").length, 6);
    assert.equal(new Set(after.map((r) => r.id)).size, 6);
  });

  test("an agent starved of CPU for a few seconds goes not_ready and back, never down, and keeps its replicas", async () => {
    const held = (await replicas()).filter((r) => r.node === "node3").map((r) => `${r.id}:${r.pid}`).sort();
    assert.ok(held.length > 0);
    cluster.signalNode(3, "SIGSTOP");
    await waitFor("node3 not ready", async () => (await nodes()).find((n) => n.name === "node3")?.state === "not_ready", 10_000);
    // Starved for a few seconds in all: past not_ready, well short of down.
    await waitFor("node3 silent for 5 s", async () => ((await nodes()).find((n) => n.name === "node3")?.heartbeatAgeMs ?? 0) >= 5000, 10_000);
    cluster.signalNode(3, "SIGCONT");
    await waitFor("node3 ready again", async () => (await nodes()).find((n) => n.name === "node3")?.state === "ready", 10_000);
    const events = (await cluster.drover.json<EventRecord[]>(["events", "-n", "1000"])).filter((e) => e.message.includes("node node3"));
    assert.ok(!events.some((e) => e.type === "NodeDown"), events.map((e) => e.message).join("\n"));
    assert.deepEqual((await replicas()).filter((r) => r.node === "node3").map((r) => `${r.id}:${r.pid}`).sort(), held);
  });

  test("without the server, nodes keep serving on their last routes; a new server adopts every replica as it is", async () => {
    const before = (await replicas()).map((r) => `${r.id}:${r.node}:${r.pid}:${r.restarts}`).sort();
    await cluster.drover.killServer();
    // Every node's router still reaches every replica, on the routes it had.
    for (const i of [1, 2, 3]) {
      const seen = new Set<string>();
      await waitFor(`replicas answering through node${i} with no server`, async () => {
        seen.add(((await (await fetch(`http://${cluster.address(i)}:${port}/`)).json()) as { replica: string }).replica);
        return seen.size === 6;
      }, 10_000, 0);
    }
    await cluster.startServer();
    await waitFor("three nodes back and 6 ready replicas", async () => (await nodes()).filter((n) => n.state === "ready" && n.connected).length === 3 && (await replicas()).filter((r) => r.state === "ready").length === 6, 20_000);
    assert.deepEqual((await replicas()).map((r) => `${r.id}:${r.node}:${r.pid}:${r.restarts}`).sort(), before, "same replicas, same processes, no restarts");
  });

  test("drain under load moves every replica off with 0 failed requests, then leaves the node cordoned", async () => {
    const from = "node2";
    const drained = cluster.drover.run(["node", "drain", from]).then(() =>
      waitFor("node2 drained", async () => {
        const node = (await nodes()).find((n) => n.name === from)!;
        const list = await replicas();
        return !node.draining && node.cordoned && list.every((r) => r.node !== from) && list.filter((r) => r.state === "ready").length === 6;
      }, 30_000),
    );
    const load = await loadDuring(port, drained, 4, cluster.address(3));
    assert.ok(load.requests > 100, `${load.requests} requests`);
    assert.equal(load.failed, 0, loadSummary(load));
    assert.ok((await cluster.drover.json<EventRecord[]>(["events", "-n", "50"])).some((e) => e.type === "NodeDrained"));
    const uncordon = await cluster.drover.run(["node", "uncordon", from]);
    assert.equal(uncordon.code, 0);
  });


  test("a rolling update across nodes, under load through one node's address, loses no request", async () => {
    const updated = service("web", port, 6, "  configuration: {environment: {MESSAGE: v2}}\n");
    const rolled = (async () => {
      const applied = await cluster.drover.run(["apply", "-y", "-f", cluster.drover.write("web-2.yaml", updated)]);
      assert.equal(applied.code, 0, applied.stderr);
      return waitFor("every replica on revision 2 and ready", async () => {
        const list = await replicas();
        return list.length === 6 && list.every((r) => r.revision === 2 && r.state === "ready");
      }, 60_000);
    })();
    const load = await loadDuring(port, rolled, 4, cluster.address(1));
    assert.ok(load.requests > 100, `${load.requests} requests`);
    assert.equal(load.failed, 0, loadSummary(load));
    assert.ok((load.revisions["1"] ?? 0) > 0 && (load.revisions["2"] ?? 0) > 0, JSON.stringify(load.revisions));
    assert.ok(new Set((await replicas()).map((r) => r.node)).size >= 2, "the new revision runs on several nodes");
  });
});
