/**
 * A managed PostgreSQL on a node of a cluster (agents in network namespaces): placed by its
 * constraint, its backup job runs on the database's own node and keeps the files there; the
 * server (which runs no node of its own here) asks the database through that node's router and
 * says where the backups are rather than listing none.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { DatabaseView, JobRun } from "../src/contract/index.js";
import { findPostgresProgram } from "../src/databases/postgres-bin.js";
import { clusterUnavailable, nodesOf, TestCluster } from "./cluster-harness.js";
import { freePort, waitFor } from "./harness.js";

const skip = clusterUnavailable() ?? (findPostgresProgram("postgres") && findPostgresProgram("pg_dump") ? null : "PostgreSQL's server binaries are not installed (apt-get install postgresql)");

describe("a database on a cluster node: backups on its node", { skip: skip ?? false }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.create(2);
    await cluster.startServer();
    await cluster.startAgent(1, { labels: { disk: "ssd" } });
    await cluster.startAgent(2);
    await waitFor("two ready nodes", async () => (await nodesOf(cluster)).filter((n) => n.state === "ready").length === 2);
  });
  after(async () => {
    await cluster?.cleanup();
  });

  test("placed by its constraint; its backups run and stay on its node; the server answers for it through that node", async () => {
    const port = await freePort();
    const text = `apiVersion: drover/v1
kind: Database
metadata: {name: ledger, namespace: acct}
spec:
  port: ${port}
  placement: {constraints: [{label: disk, operator: in, values: [ssd]}]}
  backups: {schedule: "*/2 * * * * *", retain: {count: 2}}
`;
    const applied = await cluster.drover.run(["apply", "-f", cluster.drover.write("ledger.yaml", text)]);
    assert.equal(applied.code, 0, applied.stderr);
    const db = async () => (await cluster.drover.json<DatabaseView[]>(["db", "ls"]))[0]!;
    const ready = await waitFor("the database ready and answering through node1's router", async () => ((await db()).ready && (await db()).reachable ? db() : null), 90_000, 500).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await db())}\n${(await cluster.drover.run(["ps", "-a"])).stdout}\n${(await cluster.drover.run(["logs", "acct/ledger"])).stdout}${(await cluster.drover.run(["logs", "acct/ledger"])).stderr}\n${(await cluster.drover.run(["events", "-s", "acct/ledger", "-n", "30"])).stdout}`);
    });
    assert.equal(ready.node, "node1");
    assert.deepEqual([ready.backups.node, ready.backups.here, ready.backups.count], ["node1", false, null]);

    const runs = await waitFor("two successful backups", async () => {
      const list = await cluster.drover.json<JobRun[]>(["job", "runs", "acct/ledger-backup"]);
      return list.filter((r) => r.state === "succeeded").length >= 2 ? list : null;
    }, 30_000, 500).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${(await cluster.drover.run(["job", "runs", "acct/ledger-backup"])).stdout}\n${(await cluster.drover.run(["job", "logs", "acct/ledger-backup"])).stdout}`);
    });
    assert.ok(runs.flatMap((r) => r.attempts).every((a) => a.node === "node1"), `every attempt on node1: ${JSON.stringify(runs.flatMap((r) => r.attempts.map((a) => a.node)))}`);
    const kept = path.join(cluster.home(1), "backups", "acct", "ledger");
    await waitFor("node1 keeps them, pruned to two", () => fs.existsSync(kept) && fs.readdirSync(kept).filter((f) => f.endsWith(".dump")).length === 2, 20_000, 250);
    assert.equal(fs.existsSync(path.join(cluster.drover.home, "backups", "acct")), false, "nothing on the server's machine");

    const listed = await cluster.drover.run(["db", "ls"]);
    assert.match(listed.stdout, /acct\/ledger\s+ready\s+\d+\s+ledger \d+(\.\d)?Mi\s+\S+\s+\d+s ago \(kept on node node1\)/);
    const refused = await cluster.drover.run(["db", "backups", "acct/ledger"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /acct\/ledger runs on node node1: its backups are kept there \(DROVER_HOME\/backups\/acct\/ledger of that machine\)/);
    // A copy brought to the server's machine restores through node1's router.
    const newest = fs.readdirSync(kept).filter((f) => f.endsWith(".dump")).sort().at(-1)!;
    const copy = path.join(cluster.drover.home, "ledger-copy.dump");
    fs.copyFileSync(path.join(kept, newest), copy);
    const restored = await cluster.drover.run(["db", "restore", "acct/ledger", copy, "--database", "ledger"]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /restored into database ledger/);
  });
});
