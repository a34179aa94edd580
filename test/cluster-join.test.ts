import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { clusterService as service, clusterUnavailable, garble, nodesOf, replicasOf, runAgentOnce, TestCluster } from "./cluster-harness.js";
import { PROTOCOL_VERSION } from "../src/contract/wire.js";
import { freePort, waitFor } from "./harness.js";

const skip = clusterUnavailable();

describe("many machines: joining, pending placement, hostile agents and removal (agents in network namespaces)", { skip: skip ?? false }, () => {
  let cluster: TestCluster;
  let port: number;
  const nodes = () => nodesOf(cluster);
  const replicas = (svc = "test/web") => replicasOf(cluster, svc);

  before(async () => {
    cluster = await TestCluster.create(4);
    await cluster.startServer();
    port = await freePort();
  });
  after(async () => {
    await cluster?.cleanup();
  });

  test("agents join with a token and pin the CA; a wrong or expired token is refused and registers nothing", async () => {
    for (const i of [1, 2, 3]) await cluster.startAgent(i, { labels: { rack: `r${i}` } });
    const joined = await waitFor("three ready nodes", async () => ((await nodes()).filter((n) => n.state === "ready").length === 3 ? nodes() : null));
    assert.deepEqual(joined.map((n) => [n.name, n.address, n.labels.rack, n.connected]), [1, 2, 3].map((i) => [`node${i}`, cluster.address(i), `r${i}`, true]));
    assert.ok(joined.every((n) => n.allocatable.cpuMillis > 0 && n.runtimes.includes("process")));

    // A credential of its own replaces the token: it is saved in the node's home, not the token.
    const saved = JSON.parse(fs.readFileSync(path.join(cluster.home(1), "agent-credential.json"), "utf8")) as { credential: string; node: string };
    assert.equal(saved.node, "node1");
    assert.match(saved.credential, /^drvn_/);

    const { caHash } = await cluster.joinToken();
    const wrong = await runAgentOnce(cluster, 4, ["--token", "drvj_not-a-token", "--ca-hash", caHash]);
    assert.equal(wrong.code, 2, wrong.output);
    assert.match(wrong.output, /cannot join: unknown join token/);
    const expiring = await cluster.joinToken("1s");
    await waitFor("the join token to expire", () => Date.now() > expiring.expiresAt + 50, 5000);
    const expired = await runAgentOnce(cluster, 4, ["--token", expiring.token, "--ca-hash", expiring.caHash]);
    assert.equal(expired.code, 2, expired.output);
    assert.match(expired.output, /the join token expired at/);
    // A server that is not the pinned one never sees the token.
    const pinned = await runAgentOnce(cluster, 4, ["--token", expiring.token, "--ca-hash", `sha256:${"0".repeat(64)}`]);
    assert.equal(pinned.code, 2);
    assert.match(pinned.output, /is not the one given with --ca-hash .*refusing to send the join token/);
    assert.equal((await nodes()).length, 3);
    assert.match(fs.readFileSync(path.join(cluster.drover.home, "server.log"), "utf8"), /refused an agent from .* unknown join token/);
  });

  test("a replica that fits nowhere is pending with the reason per filter, and is placed as soon as a node fits", async () => {
    const euPort = await freePort();
    const extra = "  placement:\n    constraints: [{label: zone, operator: in, values: [eu]}]\n";
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("eu.yaml", service("eu", euPort, 1, extra))])).code, 0);
    const pending = await waitFor("a pending replica", async () => (await replicas("test/eu")).find((r) => r.state === "pending" && r.node === ""));
    assert.equal(pending.reason, "Unschedulable: 3 nodes: constraint zone in (eu) failed");
    const described = await cluster.drover.run(["describe", "test/eu"]);
    assert.match(described.stdout, /3 nodes: constraint zone in \(eu\) failed/);
    assert.ok((await cluster.drover.eventsOf("test/eu")).some((e) => e.type === "ReplicaPending" && e.message.includes("no node fits")));

    await cluster.startAgent(4, { labels: { zone: "eu" } });
    const placed = await waitFor("the replica ready on node4", async () => (await replicas("test/eu")).find((r) => r.state === "ready" && r.node === "node4"), 15_000);
    assert.equal(placed.id, pending.id);
  });

  test("a garbled message ends the connection and nothing else: the node's replicas are untouched", async () => {
    assert.equal((await cluster.drover.run(["apply", "-f", cluster.drover.write("web.yaml", service("web", port, 3))])).code, 0);
    await waitFor("3 ready replicas", async () => (await replicas()).filter((r) => r.state === "ready").length === 3, 20_000);
    const before = (await replicas()).map((r) => `${r.id}:${r.node}:${r.pid}:${r.restarts}`).sort();
    const { credential, caPem } = JSON.parse(fs.readFileSync(path.join(cluster.home(1), "agent-credential.json"), "utf8")) as { credential: string; caPem: string };
    // Before any hello: dropped, nothing registered.
    assert.equal(await garble(cluster, caPem, ["this is not JSON"]), "closed");
    // As node1 (its real credential), a valid hello and then garbage: dropped after the welcome.
    const node1 = (await nodes()).find((n) => n.name === "node1")!;
    const report = { name: node1.name, address: node1.address, labels: node1.labels, capacity: node1.capacity, allocatable: node1.allocatable, gpuModel: null, runtimes: node1.runtimes, energy: node1.energy, freePorts: node1.freePorts, agentVersion: node1.agentVersion };
    const hello = JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, node: report, auth: { credential }, replicas: [] });
    assert.equal(await garble(cluster, caPem, [hello, '{"type":"heartbeat","seq":"one"}']), "closed");
    assert.equal((await nodes()).length, 4);
    await waitFor("node1 connected again", async () => (await nodes()).find((n) => n.name === "node1")?.connected, 10_000);
    assert.deepEqual((await replicas()).map((r) => `${r.id}:${r.node}:${r.pid}:${r.restarts}`).sort(), before);
    assert.match(fs.readFileSync(path.join(cluster.drover.home, "server.log"), "utf8"), /invalid message at seq/);
  });

  test("a removed node's credential stops working at once: its agent is refused, its replicas are replaced", async () => {
    const removed = await cluster.drover.run(["node", "rm", "node4"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.ok(!(await nodes()).some((n) => n.name === "node4"));
    await waitFor("node4's agent refused", () => /unknown or revoked node credential/.test(cluster.agentLog(4)), 15_000);
    assert.ok(!(await nodes()).some((n) => n.name === "node4"));
    // Its eu replica had nowhere else to go: pending again, with the reason.
    await waitFor("the eu replica pending again", async () => (await replicas("test/eu")).some((r) => r.state === "pending" && r.reason.startsWith("Unschedulable")), 10_000);
  });
});
