/**
 * Volumes and stateful services with real processes (and a container where Docker runs): data
 * that outlives kill -9 of a replica, a rollout and kill -9 of drover; stable names, ordered start,
 * replacement in place; removal refused while in use, and delete --volumes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { EventRecord, ReplicaRecord, VolumeView } from "../src/contract/index.js";
import { volumeFolder } from "../src/agent/volumes.js";
import { dockerUnavailable, Drover, freePort, REPO, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover?.cleanup());

const COUNTER = path.join(REPO, "test/fixtures/counter.mjs");
/** Where the agent keeps a volume's folder (see src/agent/volumes.ts). */
const folderOf = (key: string) => volumeFolder(path.join(drover.home, "agent"), key);
const ready = async (service: string) => (await drover.replicasOf(service)).filter((r: ReplicaRecord) => r.state === "ready");
const volumes = () => drover.json<VolumeView[]>(["volume", "ls"]);
const answer = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { replica: string; starts: number; folder: string };

function counter(name: string, port: number, extra: string, message = "one"): string {
  return `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: vol}
spec:
  command: [node, ${COUNTER}]
  networking: {ports: [{name: http, port: ${port}}]}
  volumes: [{name: data, size: 1Mi}]
  deployment: {rolling: {max_surge: 0, max_unavailable: 1}}
  stop: {grace_period: 2s}
  configuration: {environment: {MESSAGE: ${message}}}
${extra}`;
}

test("a service's volume keeps its data across kill -9 of the replica, a rollout and kill -9 of drover", async () => {
  const port = await freePort();
  assert.equal((await drover.run(["apply", "-f", drover.write("keep.yaml", counter("keep", port, ""))])).code, 0);
  await waitFor("ready", async () => (await ready("vol/keep")).length === 1, 20_000);
  const first = await answer(port);
  assert.equal(first.starts, 1);
  assert.equal(first.folder, folderOf("vol/keep/data"));

  process.kill((await ready("vol/keep"))[0]!.pid!, "SIGKILL");
  await waitFor("restarted after kill -9", async () => (await answer(port).catch(() => null))?.starts === 2, 20_000, 200);
  assert.equal((await drover.run(["apply", "-f", drover.write("keep.yaml", counter("keep", port, "", "two"))])).code, 0);
  await waitFor("the new revision, on the same data", async () => (await answer(port).catch(() => null))?.starts === 3, 30_000, 200);
  await drover.killServer();
  await drover.startServer();
  // Re-adopted, not restarted: the count stays; the volume is still listed on its node.
  assert.equal((await answer(port)).starts, 3);
  const [volume] = (await volumes()).filter((v) => v.service === "vol/keep");
  assert.deepEqual([volume!.key, volume!.node, volume!.size, volume!.usedBytes, volume!.usedBy.length], ["vol/keep/data", "local", 1024 ** 2, 1, 1]);
});

test("a stateful service: stable names, ordered start, replacement on the same name and volume; rm refused in use; delete --volumes", async () => {
  const port = await freePort();
  assert.equal((await drover.run(["apply", "-f", drover.write("db.yaml", counter("db", port, "  stateful: true\n  replicas: 3\n"))])).code, 0);
  await waitFor("three ready", async () => (await ready("vol/db")).length === 3, 30_000, 200);
  assert.deepEqual((await drover.replicasOf("vol/db")).map((r) => r.id).sort(), ["db-0.vol", "db-1.vol", "db-2.vol"]);
  const events = (await drover.eventsOf("vol/db")) as EventRecord[];
  const at = (type: string, replica: string) => events.find((e) => e.type === type && e.replica === replica)!.time;
  assert.ok(at("ReplicaStarted", "db-1.vol") >= at("ReplicaReady", "db-0.vol") && at("ReplicaStarted", "db-2.vol") >= at("ReplicaReady", "db-1.vol"), "each starts once the one before is ready");

  // kill -9 of db-1: it comes back as db-1, on data-1.
  const victim = (await ready("vol/db")).find((r) => r.id === "db-1.vol")!;
  process.kill(victim.pid!, "SIGKILL");
  await waitFor("db-1 back", async () => (await ready("vol/db")).some((r) => r.id === "db-1.vol" && r.pid !== victim.pid), 20_000, 200);
  const starts = fs.readFileSync(path.join(folderOf("vol/db/data-1"), "starts"), "utf8");
  assert.equal(starts, "2");

  // A rollout replaces each in place, highest first, each on its own volume.
  assert.equal((await drover.run(["apply", "-f", drover.write("db.yaml", counter("db", port, "  stateful: true\n  replicas: 3\n", "two"))])).code, 0);
  await waitFor("every replica on revision 2", async () => {
    const replicas = await drover.replicasOf("vol/db");
    return replicas.length === 3 && replicas.every((r) => r.revision === 2 && r.state === "ready");
  }, 40_000, 200);
  assert.deepEqual((await drover.replicasOf("vol/db")).map((r) => r.id).sort(), ["db-0.vol", "db-1.vol", "db-2.vol"]);
  for (const [ordinal, expected] of [[0, "2"], [1, "3"], [2, "2"]] as const) {
    assert.equal(fs.readFileSync(path.join(folderOf(`vol/db/data-${ordinal}`), "starts"), "utf8"), expected, `data-${ordinal}`);
  }
  const stops = ((await drover.eventsOf("vol/db")) as EventRecord[]).filter((e) => e.type === "ReplicaStopping" && /new revision/.test(e.message)).map((e) => e.replica);
  assert.deepEqual(stops, ["db-2.vol", "db-1.vol", "db-0.vol"]);

  const refused = await drover.run(["volume", "rm", "vol/db/data-0"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /volume vol\/db\/data-0 is in use by db-0\.vol: stop or delete vol\/db first/);
  assert.ok(fs.existsSync(path.join(folderOf("vol/db/data-0"), "starts")), "nothing removed");

  const deleted = await drover.run(["delete", "vol/db", "--volumes"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, /volume vol\/db\/data-2 removed from node local/);
  assert.deepEqual((await volumes()).filter((v) => v.service === "vol/db"), []);
  for (const ordinal of [0, 1, 2]) assert.ok(!fs.existsSync(folderOf(`vol/db/data-${ordinal}`)), `data-${ordinal} gone from the disk`);
});

test("a container's volume is a bind mount at its mount_path: what it writes is there after it is recreated", { skip: dockerUnavailable() ?? false }, async () => {
  const port = await freePort();
  const text = (message: string) => `apiVersion: drover/v1
kind: Service
metadata: {name: box, namespace: vol}
spec:
  image: {repository: drover-test/busybox, tag: "1", pullPolicy: Never}
  command: [sh, -c, 'date >> /data/starts; exec httpd -f -p 80 -h /data']
  networking: {ports: [{name: http, port: ${port}, target_port: 80}]}
  volumes: [{name: data, mount_path: /data}]
  stateful: true
  deployment: {rolling: {max_surge: 0, max_unavailable: 1}}
  stop: {grace_period: 1s}
  configuration: {environment: {MESSAGE: ${message}}}
`;
  assert.equal((await drover.run(["apply", "-f", drover.write("box.yaml", text("one"))])).code, 0);
  await waitFor("ready", async () => (await ready("vol/box")).length === 1, 60_000, 200);
  assert.equal((await drover.run(["apply", "-f", drover.write("box.yaml", text("two"))])).code, 0);
  await waitFor("recreated on revision 2", async () => (await ready("vol/box")).some((r) => r.revision === 2), 60_000, 200);
  const written = fs.readFileSync(path.join(folderOf("vol/box/data-0"), "starts"), "utf8");
  assert.equal(written.trim().split("\n").length, 2, `two starts written to the volume: ${written}`);
  // What the container sees at /data is that folder.
  assert.equal((await (await fetch(`http://127.0.0.1:${port}/starts`)).text()), written);
  assert.equal((await drover.run(["delete", "vol/box", "--volumes"])).code, 0);
});
