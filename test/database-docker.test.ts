/**
 * A managed PostgreSQL on the docker runtime, with an image built here from this machine's server
 * binaries (scripts/build-test-images.sh; no registry): the image's port 5432 behind the database's
 * port, the cluster on a bind-mounted volume, roles and databases made by drover's command. Rows
 * written through DATABASE_URL survive the container's kill and a rotated password (the linked
 * service rolls out with the new URL, which works); a backup is taken with the node's pg_dump.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import type { DatabaseView, JobRun } from "../src/contract/index.js";
import { postgresVersions } from "../src/databases/postgres-bin.js";
import { containersOf, dockerUnavailable, Drover, freePort, waitFor } from "./harness.js";
import { queryRows } from "./postgres-harness.js";

const major = postgresVersions().at(-1);
const image = major ? `drover-test/postgres:${major}` : null;
const skip =
  dockerUnavailable() ??
  (!image ? "PostgreSQL's server binaries are not installed (apt-get install postgresql)" : spawnSync("docker", ["image", "inspect", image]).status !== 0 ? `no ${image} image (scripts/build-test-images.sh builds it)` : false);
let drover: Drover;
before(async () => {
  if (!skip) drover = await Drover.started();
});
after(async () => {
  await drover?.cleanup();
});

const rows = queryRows;

test("a Database on docker: rows written through DATABASE_URL survive the container's kill and a rotated password; a backup with the node's pg_dump", { skip }, async () => {
  const [dbPort, appPort] = [await freePort(), await freePort()];
  const text = `apiVersion: drover/v1
kind: Database
metadata: {name: notesdb, namespace: dock}
spec:
  runtime: docker
  image: {repository: ${image!.split(":")[0]}, tag: "${major}"}
  port: ${dbPort}
  databases: [{name: notes, owner: writer}]
  backups: {schedule: "0 3 * * *", retain: {count: 3}}
---
apiVersion: drover/v1
kind: Service
metadata: {name: app, namespace: dock}
spec:
  command: [node, -e, 'require("http").createServer((q, r) => r.end(process.env.DATABASE_URL)).listen(process.env.PORT, process.env.HOST)']
  networking: {ports: [{port: ${appPort}}]}
  configuration: {databases: [{name: notesdb}]}
`;
  const applied = await drover.run(["apply", "-f", drover.write("notes.yaml", text)]);
  assert.equal(applied.code, 0, applied.stderr);
  const db = async () => (await drover.json<DatabaseView[]>(["db", "ls"]))[0]!;
  const answering = () => waitFor("the database ready and answering", async () => ((await db()).ready && (await db()).reachable ? db() : null), 90_000, 500);
  const first = await answering();
  assert.match(first.serverVersion ?? "", new RegExp(`^PostgreSQL ${major}\\.`));
  const appUrl = () => fetch(`http://127.0.0.1:${appPort}/`).then((r) => r.text()).catch(() => "");
  const url = await waitFor("the app's DATABASE_URL", async () => (await appUrl()) || null, 30_000, 200);
  assert.match(url, new RegExp(`^postgresql://writer:[^@]+@127\\.0\\.0\\.1:${dbPort}/notes$`));
  await rows(url, "CREATE TABLE notes (id int primary key, body text); INSERT INTO notes VALUES (1, 'kept')");

  // The container killed: replaced on the same volume, the rows still there.
  const agentDir = path.join(drover.home, "agent");
  const [container] = containersOf(agentDir, false);
  assert.ok(container, "the database runs in a container");
  assert.equal(spawnSync("docker", ["kill", container]).status, 0);
  await waitFor("a new container", async () => containersOf(agentDir, false).some((c) => c !== container), 60_000, 250);
  await answering();
  assert.deepEqual(await rows(url, "SELECT body FROM notes"), [{ body: "kept" }]);

  // A rotated password: the database converges to it, the app rolls out with the new URL, the old one is refused.
  const rotated = await drover.run(["secret", "set", "dock/notesdb-credentials", "WRITER_PASSWORD=rotated-pw-1"]);
  assert.equal(rotated.code, 0, rotated.stderr);
  const newUrl = await waitFor("the app on the new URL", async () => ((await appUrl()).includes("rotated-pw-1") ? appUrl() : null), 90_000, 500);
  await waitFor("the new password accepted", async () => rows(newUrl, "SELECT count(*)::int AS n FROM notes").then((r) => (r as Array<{ n: number }>)[0]!.n === 1, () => false), 90_000, 500);
  await assert.rejects(rows(url, "SELECT 1"), /password authentication failed/);

  // A backup now, with this machine's pg_dump through the router's port.
  const backup = await drover.run(["db", "backup", "dock/notesdb"]);
  assert.equal(backup.code, 0, backup.stderr);
  await waitFor("the backup run succeeded", async () => (await drover.json<JobRun[]>(["job", "runs", "dock/notesdb-backup"]))[0]?.state === "succeeded", 60_000, 500);
  const files = await drover.json<Array<{ database: string; file: string; bytes: number }>>(["db", "backups", "dock/notesdb"]);
  assert.deepEqual(files.map((f) => f.database), ["notes"]);
  assert.ok(files[0]!.bytes > 0);
  const doctor = (await drover.run(["doctor"])).stdout;
  assert.match(doctor, new RegExp(`✓ database dock/notesdb \\(port ${dbPort}\\): PostgreSQL ${major}\\.\\d+, answered in \\d+ ms; notes \\d+(\\.\\d)?Mi; volume .*; last backup \\d+s ago`));
});
