/**
 * The managed PostgreSQL replica program on Debian's real server binaries: a new cluster in an
 * empty volume, roles and databases as asked, passwords from the environment (a changed one takes
 * effect on the next start), data kept across a stop and start, and SIGTERM a clean stop.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import { findPostgresProgram } from "../src/databases/postgres-bin.js";
import { backupName, listBackups, restoreDatabase } from "../src/databases/postgres-backup.js";
import { freePort, REPO, waitFor } from "./harness.js";
import { queryRows } from "./postgres-harness.js";

const skip = findPostgresProgram("postgres") && findPostgresProgram("initdb") ? false : "PostgreSQL's server binaries are not installed (apt-get install postgresql)";
const PROGRAM = path.join(REPO, "dist/src/databases/postgres-replica.js");
const BACKUP = path.join(REPO, "dist/src/databases/postgres-backup.js");
const volume = fs.mkdtempSync(path.join(os.tmpdir(), "drover-pg-volume-"));
// PostgreSQL refuses root: as root the replica runs as Debian's postgres user, as drover would run it.
const owner = process.getuid?.() === 0 ? userIds("postgres") : null;
if (owner) fs.chownSync(volume, owner.uid, owner.gid);
let child: ChildProcess | null = null;

after(() => {
  child?.kill("SIGKILL");
  fs.rmSync(volume, { recursive: true, force: true });
});

function userIds(name: string): { uid: number; gid: number } {
  const out = spawnSync("id", [name], { encoding: "utf8" }).stdout;
  return { uid: Number(/uid=(\d+)/.exec(out)![1]), gid: Number(/gid=(\d+)/.exec(out)![1]) };
}

const setup = { superuserPasswordEnv: "PG_SUPER", users: [{ name: "shop", passwordEnv: "PG_SHOP" }], databases: [{ name: "shop", owner: "shop" }, { name: "reports", owner: "shop" }] };

function start(port: number, shopPassword: string): { log: () => string; exited: Promise<number | null> } {
  let output = "";
  child = spawn(process.execPath, [PROGRAM], {
    env: { PATH: process.env.PATH, DROVER_VOLUME_DATA: volume, PORT: String(port), HOST: "127.0.0.1", DROVER_PG_SETUP: JSON.stringify(setup), PG_SUPER: "super-secret", PG_SHOP: shopPassword },
    stdio: ["ignore", "pipe", "pipe"],
    ...(owner ?? {}),
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
  return { log: () => output, exited };
}

function query(port: number, user: string, password: string, database: string, sql: string): Promise<unknown[]> {
  return queryRows({ host: "127.0.0.1", port, user, password, database }, sql);
}

test("a new cluster with the roles and databases asked for; data kept across a restart; a changed password applied; backups with retention, a restore, a refused non-dump, a failing backup told; SIGTERM stops it cleanly", { skip }, async () => {
  const port = await freePort();
  let run = start(port, "first");
  await waitFor("ready", () => /ready on 127\.0\.0\.1:\d+: shop, reports/.test(run.log()), 60_000, 100);
  assert.match(run.log(), /a new cluster in .*pgdata/);
  await query(port, "shop", "first", "shop", "CREATE TABLE orders (id int primary key); INSERT INTO orders VALUES (1), (2)");
  const owners = await query(port, "postgres", "super-secret", "postgres", "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname IN ('shop', 'reports') ORDER BY 1");
  assert.deepEqual(owners, [{ datname: "reports", owner: "shop" }, { datname: "shop", owner: "shop" }]);
  await assert.rejects(query(port, "shop", "wrong", "shop", "SELECT 1"), /password authentication failed/);

  child!.kill("SIGTERM");
  assert.equal(await run.exited, 0, run.log());

  run = start(port, "second");
  await waitFor("ready again", () => /ready on/.test(run.log()), 60_000, 100);
  assert.doesNotMatch(run.log(), /a new cluster/);
  assert.deepEqual(await query(port, "shop", "second", "shop", "SELECT id FROM orders ORDER BY id"), [{ id: 1 }, { id: 2 }]);
  await assert.rejects(query(port, "shop", "first", "shop", "SELECT 1"), /password authentication failed/, "the old password no longer works");

  // The backup program as the backup cron job runs it: a dump per database, retention applied.
  const backups = fs.mkdtempSync(path.join(os.tmpdir(), "drover-pg-backups-"));
  try {
    const env = { ...process.env, DROVER_BACKUP_DIR: backups, DROVER_BACKUP_DATABASES: "shop,reports", DROVER_BACKUP_RETAIN: JSON.stringify({ count: 2 }), PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "postgres", PGPASSWORD: "super-secret" };
    // An older backup of shop, to be pruned by the count of 2 once two newer ones exist.
    fs.writeFileSync(path.join(backups, backupName("shop", Date.now() - 86_400_000)), "PGDMP old");
    fs.writeFileSync(path.join(backups, backupName("shop", Date.now() - 3_600_000)), "PGDMP newer");
    const backup = spawnSync(process.execPath, [BACKUP], { env, encoding: "utf8" });
    assert.equal(backup.status, 0, backup.stderr);
    assert.match(backup.stdout, /backup of shop: shop-\d{8}T\d{6}Z\.dump \(\d+ bytes\)/);
    assert.match(backup.stdout, /pruned shop-\d{8}T\d{6}Z\.dump \(retention\)/);
    const kept = listBackups(backups);
    assert.deepEqual(kept.map((b) => b.database).sort(), ["reports", "shop", "shop"]);
    const latest = kept.find((b) => b.database === "shop")!;

    // The table is dropped; the restore brings the rows back.
    await query(port, "shop", "second", "shop", "DROP TABLE orders");
    const restoreEnv = { PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "postgres", PGPASSWORD: "super-secret", PATH: process.env.PATH };
    await restoreDatabase(latest.file, "shop", undefined, restoreEnv);
    assert.deepEqual(await query(port, "shop", "second", "shop", "SELECT id FROM orders ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    // Something that is not a dump is refused before the database is touched.
    const bogus = path.join(backups, "notes.txt");
    fs.writeFileSync(bogus, "hello");
    await assert.rejects(restoreDatabase(bogus, "shop", undefined, restoreEnv), /notes\.txt is not a pg_dump custom-format backup \(it does not start with PGDMP\): nothing was restored/);
    assert.deepEqual(await query(port, "shop", "second", "shop", "SELECT count(*)::int AS n FROM orders"), [{ n: 2 }]);

    // A backup that cannot run (no pg_dump of that version) fails loudly and tells the webhook.
    const told: unknown[] = [];
    const hook = http.createServer((request, response) => {
      let body = "";
      request.on("data", (d) => (body += d));
      request.on("end", () => (told.push(JSON.parse(body)), response.end()));
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    const failed = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [BACKUP], { env: { ...env, DROVER_PG_VERSION: "99", DROVER_BACKUP_WEBHOOK: `http://127.0.0.1:${(hook.address() as { port: number }).port}/` } });
      let stderr = "";
      c.stderr.on("data", (d) => (stderr += d));
      c.once("exit", (code) => resolve({ code, stderr }));
    });
    hook.close();
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /backup failed: shop: PostgreSQL 99's pg_dump is not installed/);
    assert.equal((told[0] as { event: string; message: string }).event, "BackupFailed");
  } finally {
    fs.rmSync(backups, { recursive: true, force: true });
  }

  child!.kill("SIGTERM");
  assert.equal(await run.exited, 0);
});
