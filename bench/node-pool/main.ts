/**
 * A `local` node pool's timings, in rounds: from nothing to `min` 2 ready nodes; replicas that do
 * not fit → the cluster autoscaler adds a node and they are ready (pending → ready); the load gone
 * → the idle node is drained and terminated (after a 5 s scale_down_delay, which is included);
 * then the pool is scaled to 0 for the next round. Prints p50 and max of each and writes
 * bench/results/node-pool.json.
 *
 *   npm run bench:node-pool [-- --rounds 5]
 */
import { parseArgs } from "node:util";
import type { PoolView, ReplicaRecord } from "../../src/contract/index.js";
import { clusterService, TestCluster } from "../../test/cluster-harness.js";
import { freePort, waitFor } from "../../test/harness.js";
import { median, percentile, writeResult } from "../common.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });

const cluster = await TestCluster.create(0);
const figures = { minFromNothingMs: [] as number[], pendingToReadyMs: [] as number[], idleNodeGoneMs: [] as number[] };
try {
  cluster.drover.env.DROVER_POOL_TICK_MS = "250";
  await cluster.startServer();
  const pool = (min: number) => `apiVersion: drover/v1\nkind: NodePool\nmetadata: {name: bench}\nspec:\n  provider: local\n  min: ${min}\n  max: 4\n  machine: small\n  scale_down_delay: 5s\n  boot_timeout: 60s\n  local: {bridge: ${cluster.bridge}, subnet: ${cluster.subnet}}\n`;
  const view = () => cluster.drover.json<PoolView>(["pool", "describe", "bench", "-o", "json"]);
  const ready = async () => (await view()).instances.filter((i) => i.state === "ready").length;
  const live = async () => (await view()).instances.filter((i) => !["terminated", "failed", "archived"].includes(i.state)).length;
  const port = await freePort();
  for (let round = 1; round <= Number(values.rounds); round++) {
    let started = performance.now();
    await cluster.drover.run(["apply", "-f", cluster.drover.write("pool.yaml", pool(2))]);
    if (round > 1) await cluster.drover.run(["pool", "scale", "bench", "2"]);
    await waitFor("2 ready nodes", async () => (await ready()) === 2, 60_000, 50);
    figures.minFromNothingMs.push(Math.round(performance.now() - started));

    started = performance.now();
    // 600m each: one per small node, so the third waits for a third node.
    await cluster.drover.run(["apply", "-f", cluster.drover.write("big.yaml", clusterService("big", port, 3).replace("cpu: 50m", "cpu: 600m"))]);
    await waitFor("3 ready replicas", async () => (await cluster.drover.json<ReplicaRecord[]>(["ps", "test/big"])).filter((r) => r.state === "ready").length === 3, 60_000, 50);
    figures.pendingToReadyMs.push(Math.round(performance.now() - started));

    started = performance.now();
    await cluster.drover.run(["scale", "test/big", "2"]);
    await waitFor("back to 2 nodes", async () => (await live()) === 2, 60_000, 50);
    figures.idleNodeGoneMs.push(Math.round(performance.now() - started));

    await cluster.drover.run(["delete", "test/big"]);
    await waitFor("test/big gone", async () => (await cluster.drover.json<Array<{ name: string }>>(["get"])).length === 0, 30_000, 100);
    await cluster.drover.run(["apply", "-f", cluster.drover.write("pool.yaml", pool(0))]);
    await cluster.drover.run(["pool", "scale", "bench", "0"]);
    await waitFor("no node left", async () => (await live()) === 0, 60_000, 100);
    process.stdout.write(`round ${round}: min 2 from nothing ${figures.minFromNothingMs.at(-1)} ms, pending → ready ${figures.pendingToReadyMs.at(-1)} ms, idle node gone ${figures.idleNodeGoneMs.at(-1)} ms (5 s delay included)\n`);
  }
} finally {
  await cluster.cleanup();
}
const summary = Object.fromEntries(Object.entries(figures).map(([name, list]) => [name, { p50: median(list), p90: percentile(list, 90), max: Math.max(...list), runs: list }]));
for (const [name, s] of Object.entries(summary)) process.stdout.write(`${name}: p50 ${s.p50} ms, max ${s.max} ms\n`);
writeResult("node-pool", { provider: "local", machine: "small", scaleDownDelayMs: 5000, ...summary });
