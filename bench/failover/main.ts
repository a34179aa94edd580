/**
 * Node loss with default settings: three nodes (network namespaces with a real agent each, as the
 * tests make them), a 6-replica service; kill -9 of the node holding the most replicas (its agent
 * and every replica), timed until 6 replicas are ready on the other nodes; the node comes back,
 * the next loss follows. Prints p50 and max over the losses and writes bench/results/failover.json.
 *
 *   npm run bench:failover [-- --losses 10]
 */
import { parseArgs } from "node:util";
import type { ReplicaRecord } from "../../src/contract/index.js";
import { clusterService, clusterUnavailable, replicasOf, TestCluster } from "../../test/cluster-harness.js";
import { freePort, waitFor } from "../../test/harness.js";
import { median, percentile, writeResult } from "../common.js";

const { values } = parseArgs({ options: { losses: { type: "string", default: "10" } } });
const LOSSES = Number(values.losses);
const REPLICAS = 6;

const unavailable = clusterUnavailable();
if (unavailable) {
  console.error(`bench/failover: ${unavailable}`);
  process.exit(1);
}

const cluster = await TestCluster.create(3);
try {
  await cluster.startServer();
  for (const i of [1, 2, 3]) await cluster.startAgent(i);
  await waitFor("three ready nodes", async () => (await cluster.drover.json<Array<{ state: string }>>(["node", "ls"])).filter((n) => n.state === "ready").length === 3, 30_000);
  const port = await freePort();
  await cluster.drover.run(["apply", "-f", cluster.drover.write("web.yaml", clusterService("web", port, REPLICAS))]);
  const replicas = () => replicasOf(cluster, "test/web");
  const ready = (list: ReplicaRecord[], except?: string) => list.filter((r) => r.state === "ready" && r.node !== except).length;
  await waitFor("every replica ready", async () => ready(await replicas()) === REPLICAS, 30_000);

  const timings: number[] = [];
  for (let loss = 1; loss <= LOSSES; loss++) {
    const list = await replicas();
    const counts = [1, 2, 3].map((i) => ({ i, held: list.filter((r) => r.node === `node${i}` && r.state === "ready").length }));
    const victim = counts.sort((a, b) => b.held - a.held)[0]!;
    const started = Date.now();
    cluster.killNode(victim.i);
    await waitFor("the replicas ready elsewhere", async () => ready(await replicas(), `node${victim.i}`) === REPLICAS, 60_000, 50);
    const ms = Date.now() - started;
    timings.push(ms);
    console.log(`loss ${loss}: node${victim.i} held ${victim.held}; ${REPLICAS} ready elsewhere after ${(ms / 1000).toFixed(2)} s`);
    await cluster.startAgent(victim.i, { token: null });
    await waitFor("the node back and the lost replicas forgotten", async () => {
      const node = (await cluster.drover.json<Array<{ name: string; state: string }>>(["node", "ls"])).find((n) => n.name === `node${victim.i}`);
      return node?.state === "ready" && (await replicas()).every((r) => r.state !== "lost");
    }, 30_000);
  }
  const result = { losses: LOSSES, replicas: REPLICAS, nodeDownAfterMs: 10_000, medianMs: median(timings), p90Ms: percentile(timings, 90), maxMs: Math.max(...timings), timingsMs: timings };
  console.log(`node lost → ${REPLICAS} replicas ready elsewhere: p50 ${(result.medianMs / 1000).toFixed(2)} s, max ${(result.maxMs / 1000).toFixed(2)} s over ${LOSSES} losses (target ≤ 15 s)`);
  writeResult("failover", result);
} finally {
  await cluster.cleanup();
}
