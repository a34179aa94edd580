/**
 * A `local` node pool: nodes as network namespaces with real agents, made and removed by drover.
 * From nothing to min; pending replicas bring a node; idle and consolidated nodes go after the
 * delay with no failed request. Timings go to stdout for the closing note.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import type { EventRecord } from "../src/contract/index.js";
import { clusterService, clusterUnavailable, readyByNode, replicasOf, TestCluster } from "./cluster-harness.js";
import { freePort, loadDuring, loadSummary, waitFor } from "./harness.js";
import { live, localPool, poolOf, readyInstances } from "./pool-harness.js";

const skip = clusterUnavailable();

describe("a local node pool: nodes from nothing, a node for pending replicas, idle and consolidated nodes removed", { skip: skip ?? false }, () => {
  let cluster: TestCluster;
  const timings: Record<string, number> = {};

  before(async () => {
    cluster = await TestCluster.create(0);
    cluster.drover.env.DROVER_POOL_TICK_MS = "500";
    cluster.drover.env.DROVER_POOL_SYNC_MS = "2000";
    await cluster.startServer();
  });
  after(async () => {
    process.stdout.write(`# pool timings (ms): ${JSON.stringify(timings)}\n`);
    await cluster?.cleanup();
  });

  test("min 2 from nothing; 3 replicas that fit 1 per node bring a third node; scaled down, the empty node goes after the delay with 0 failed requests", async () => {
    const applied = Date.now();
    const result = await cluster.drover.run(["apply", "-f", cluster.drover.write("pool.yaml", localPool(cluster))]);
    assert.equal(result.code, 0, result.stderr);
    await waitFor("two ready instances", async () => readyInstances(await poolOf(cluster)).length === 2, 40_000, 250);
    timings.twoNodesReady = Date.now() - applied;
    const nodes = await cluster.drover.json<Array<{ name: string; state: string; allocatable: { cpuMillis: number } }>>(["node", "ls", "-o", "json"]);
    assert.deepEqual(nodes.map((n) => [n.state, n.allocatable.cpuMillis]), [["ready", 900], ["ready", 900]], "sized as the machine type: 1 CPU less what the system keeps");

    // 600m each: one per small node, so the third replica waits for a third node.
    const port = await freePort();
    const big = clusterService("big", port, 3).replace("cpu: 50m", "cpu: 600m");
    const pendingAt = Date.now();
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("big.yaml", big)])).code, 0);
    await waitFor("3 ready replicas of test/big", async () => Object.values(readyByNode(await replicasOf(cluster, "test/big"))).reduce((a, b) => a + b, 0) === 3, 40_000, 250);
    timings.pendingToReady = Date.now() - pendingAt;
    const pool = await poolOf(cluster);
    assert.equal(live(pool).length, 3);
    assert.deepEqual(Object.values(readyByNode(await replicasOf(cluster, "test/big"))), [1, 1, 1]);
    const events = await cluster.drover.json<EventRecord[]>(["events", "-n", "1000", "-o", "json"]);
    const up = events.find((e) => e.type === "NodePoolScaledUp");
    assert.match(up?.message ?? "", /^pool work 2 → 3: 1 pending replica\(s\) of test\/big \(2 nodes: cpu exhausted\); machine small: 1000m CPU, 1024Mi, \$0\.010\/h; chosen by cost$/);
    for (const instance of pool.instances) assert.deepEqual(instance.history.map((t) => t.to), ["provisioning", "booting", "joining", "ready"], `${instance.id}'s lifecycle, each step stored`);

    // The load goes: one replica less leaves one node empty. Load through a node that keeps a replica
    // while the empty one is drained and terminated (a client of the terminated node itself would be
    // its load balancer's to move).
    const downAt = Date.now();
    assert.equal((await cluster.drover.run(["scale", "test/big", "2"])).code, 0);
    const holding = await waitFor("two ready replicas on two nodes", async () => {
      const byNode = readyByNode(await replicasOf(cluster, "test/big"));
      return Object.keys(byNode).length === 2 && (await replicasOf(cluster, "test/big")).length === 2 ? Object.keys(byNode) : undefined;
    }, 30_000, 250);
    const stays = pool.instances.find((i) => holding.includes(i.id))!;
    const load = await loadDuring(port, waitFor("back to two instances", async () => live(await poolOf(cluster)).length === 2, 40_000, 250), 4, stays.address!);
    timings.scaleDownAfterLoadGone = Date.now() - downAt;
    assert.equal(load.failed, 0, `no failed request: ${loadSummary(load)}`);
    assert.ok(load.requests > 50, `requests were sent: ${load.requests}`);
    assert.ok(timings.scaleDownAfterLoadGone >= 6_000, "not before scale_down_delay");
    const after = await poolOf(cluster);
    const gone = after.instances.find((i) => i.state === "terminated")!;
    assert.deepEqual(gone.history.map((t) => t.to), ["provisioning", "booting", "joining", "ready", "draining", "terminating", "terminated"]);
    assert.ok(!fs.readdirSync("/run/netns").some((ns) => ns.endsWith(`-${gone.id}`)), "its namespace is gone");
    assert.equal((await cluster.drover.json<unknown[]>(["node", "ls", "-o", "json"])).length, 2, "its node is forgotten");
  });

  test("bad input: a size outside min and max, an unknown pool, a size that is no number — refused with the field, nothing changed", async () => {
    const before = await poolOf(cluster);
    const outside = await cluster.drover.run(["pool", "scale", "work", "9"]);
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /desired: 9 is outside the pool's min 2 and max 4/);
    assert.doesNotMatch(outside.stderr, /\n\s+at /, "no stack trace");
    const unknown = await cluster.drover.run(["pool", "describe", "nope"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no node pool named "nope"/);
    const word = await cluster.drover.run(["pool", "scale", "work", "three"]);
    assert.equal(word.code, 2);
    const api = await cluster.drover.api<{ message: string }>("/api/v1/pools/work/scale", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ desired: 2.5 }) });
    assert.equal(api.status, 400);
    assert.match(api.body.message, /desired: expected a whole number of nodes/);
    assert.equal((await poolOf(cluster)).desired, before.desired, "nothing changed");
  });

  test("consolidation: a spread-out service is packed onto fewer nodes and the freed node is terminated, with 0 failed requests", async () => {
    // The third node is empty until test/spread lands, and an idle node goes after scale_down_delay:
    // on a loaded machine that can come first. So the delay is long while the service spreads out.
    const patient = localPool(cluster).replace("scale_down_delay: 6s", "scale_down_delay: 10m");
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("pool-patient.yaml", patient)])).code, 0);
    assert.equal((await cluster.drover.run(["pool", "scale", "work", "3"])).code, 0);
    await waitFor("three ready instances", async () => readyInstances(await poolOf(cluster)).length === 3, 40_000, 250);
    // Consolidation is about a node that holds something, so test/spread puts one replica on each.
    const port = await freePort();
    const consolidatedAt = Date.now();
    const oldest = [...readyInstances(await poolOf(cluster))].sort((a, b) => a.createdAt - b.createdAt)[0]!;
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("spread.yaml", clusterService("spread", port, 3).replace("cpu: 50m", "cpu: 100m"))])).code, 0);
    await waitFor("test/spread on three nodes", async () => Object.keys(readyByNode(await replicasOf(cluster, "test/spread"))).length === 3, 20_000, 250);
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("pool.yaml", localPool(cluster))])).code, 0);
    const load = await loadDuring(port, waitFor("consolidated to two instances", async () => live(await poolOf(cluster)).length === 2 && Object.values(readyByNode(await replicasOf(cluster, "test/spread"))).reduce((a, b) => a + b, 0) === 3, 60_000, 250), 4, oldest.address!);
    timings.consolidation = Date.now() - consolidatedAt;
    const events = await cluster.drover.json<EventRecord[]>(["events", "-n", "1000", "-o", "json"]);
    const decision = events.filter((e) => e.type === "NodePoolScaledDown").at(-1);
    assert.ok(decision?.reason === "Consolidation" && /its 1 replica\(s\) fit on the other nodes \(consolidation\)/.test(decision.message), `the decision says why, with its inputs: ${decision?.message}`);
    assert.ok(!decision.message.includes(`node ${oldest.id}:`), "the node with the fewest replicas to move goes, not the one the load goes through");
    assert.equal(load.failed, 0, `no failed request: ${loadSummary(load)}`);
    assert.equal(Object.keys(readyByNode(await replicasOf(cluster, "test/spread"))).length, 2, "packed onto two nodes");
  });

  test("pool rm: with its services gone, every node is drained and terminated, then the pool and its namespaces are gone", async () => {
    for (const service of ["test/big", "test/spread"]) assert.equal((await cluster.drover.run(["delete", service])).code, 0);
    const removing = await cluster.drover.run(["pool", "rm", "work"]);
    assert.equal(removing.code, 0, removing.stderr);
    assert.match(removing.stdout, /pool work: removing 2 instance\(s\), then the pool/);
    await waitFor("the pool gone", async () => (await cluster.drover.run(["pool", "describe", "work"])).code !== 0, 60_000, 250);
    assert.deepEqual(await cluster.drover.json<unknown[]>(["node", "ls", "-o", "json"]), [], "its nodes forgotten");
    assert.ok(!fs.readdirSync("/run/netns").some((ns) => ns.startsWith("drvp-")) || cluster.poolNamespaces().length === 0, "no namespace of it left");
    const events = await cluster.drover.json<EventRecord[]>(["events", "-n", "1000", "-o", "json"]);
    assert.ok(events.some((e) => e.type === "NodePoolDeleted"));
  });
});
