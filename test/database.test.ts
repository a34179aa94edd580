/**
 * A managed PostgreSQL end to end, on Debian's server binaries: a Database and a service that
 * writes rows through its DATABASE_URL; backups on a schedule, pruned by retention; the table
 * dropped and `drover db restore` bringing the rows back; a restore of something that is not a
 * dump refused with the database untouched; a backup failing (its disk full) raising the alert.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { DatabaseView, EventRecord } from "../src/contract/index.js";
import { findPostgresProgram } from "../src/databases/postgres-bin.js";
import type { Browser } from "playwright-core";
import { ARTEFACTS, launchBrowser, loginPage, noBrowser } from "./browser.js";
import { Drover, freePort, waitFor } from "./harness.js";
import { queryRows } from "./postgres-harness.js";

const skip = findPostgresProgram("postgres") && findPostgresProgram("pg_dump") ? false : "PostgreSQL's server binaries are not installed (apt-get install postgresql)";
let drover: Drover;
let full: string | null = null;
/** The dashboard's view is checked where a browser is installed. */
let browser: Browser | undefined;
before(async () => {
  if (skip) return;
  drover = await Drover.started();
  if (!noBrowser) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  // Lazily: a backup still writing there keeps the tmpfs busy until drover stops, and a plain
  // umount would then fail and leave the home folder impossible to remove.
  if (full) spawnSync("umount", ["-l", full]);
  await drover?.cleanup();
});

const rows = queryRows;

test("a Database, a service writing through DATABASE_URL, scheduled backups pruned, a drop undone by restore; a non-dump refused; a full disk fails the backup loudly", { skip }, async () => {
  const [dbPort, appPort] = [await freePort(), await freePort()];
  const text = `apiVersion: drover/v1
kind: Database
metadata: {name: shopdb, namespace: shop}
spec:
  port: ${dbPort}
  storage: {size: 100Mi}
  databases: [{name: shop, owner: shop}]
  backups: {schedule: "*/2 * * * * *", retain: {count: 2}}
---
apiVersion: drover/v1
kind: Service
metadata: {name: app, namespace: shop}
spec:
  command: [node, -e, 'require("http").createServer((q, r) => r.end(process.env.DATABASE_URL)).listen(process.env.PORT, process.env.HOST)']
  networking: {ports: [{port: ${appPort}}]}
  configuration: {databases: [{name: shopdb}]}
`;
  const applied = await drover.run(["apply", "-f", drover.write("shop.yaml", text)]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /\+ create\s+Secret shop\/shopdb-credentials/);
  const dbs = () => drover.json<DatabaseView[]>(["db", "ls"]);
  await waitFor("the database ready and reachable", async () => (await dbs())[0]?.ready && (await dbs())[0]?.reachable, 90_000, 500);
  const url = await waitFor("the app's DATABASE_URL", async () => (await fetch(`http://127.0.0.1:${appPort}/`).then((r) => r.text()).catch(() => "")) || null, 30_000, 200);
  assert.match(url, new RegExp(`^postgresql://shop:[^@]+@127\\.0\\.0\\.1:${dbPort}/shop$`));
  await rows(url, "CREATE TABLE orders (id int primary key); INSERT INTO orders VALUES (1), (2), (3)");

  // Backups every 2 s, two kept: wait for one taken after the rows, and for the pruning.
  const wroteAt = Date.now();
  const backups = () => drover.json<Array<{ file: string; at: number }>>(["db", "backups", "shopdb"]);
  await waitFor("a backup after the rows were written", async () => (await backups()).some((b) => b.at >= Math.floor(wroteAt / 1000) * 1000 + 1000), 20_000, 500);
  await waitFor("retention at work", async () => {
    const runs = await drover.json<Array<{ state: string }>>(["job", "runs", "shop/shopdb-backup"]);
    return runs.filter((r) => r.state === "succeeded").length >= 3 && (await backups()).length === 2;
  }, 30_000, 500);
  // Retention removes the newest backup two periods (4 s) later, which a loaded machine can take to get
  // to the restore: a copy beside it, under a name retention leaves alone, is restored by its name.
  const latest = (await backups())[0]!;
  const kept = path.join(path.dirname(latest.file), "orders-kept.dump");
  fs.copyFileSync(latest.file, kept);
  await rows(url, "DROP TABLE orders");
  const restored = await drover.run(["db", "restore", "shopdb", path.basename(kept)]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /restored into database shop/);
  assert.deepEqual(await rows(url, "SELECT id FROM orders ORDER BY id"), [{ id: 1 }, { id: 2 }, { id: 3 }]);

  // Its health where an operator looks: drover db ls, drover doctor, the dashboard and its service page.
  // Backups go on every 2 s: between a new file and the pruning after it, three are there for a moment.
  const table = (await drover.run(["db", "ls"])).stdout;
  assert.match(table, /shop\/shopdb\s+ready\s+\d+\s+shop \d+(\.\d)?Mi\s+\d+(\.\d)?[KM]i of 100Mi\s+\d+s ago, \d+(\.\d)?(Ki)? \([23] kept\)/);
  const doctor = (await drover.run(["doctor"])).stdout;
  assert.match(doctor, /✓ database shop\/shopdb \(port \d+\): PostgreSQL \d+\.\d+, answered in \d+ ms; shop \d+(\.\d)?Mi; volume .* of 100Mi; last backup \d+s ago/);
  if (browser) {
    const page = await loginPage(drover, browser);
    await page.getByRole("link", { name: "Jobs & data" }).click();
    const row = page.getByTestId("database-shop/shopdb");
    await waitFor("the database's row", async () => /answers · PostgreSQL \d+\.\d+/.test(await row.innerText().catch(() => "")), 10_000, 200);
    assert.match(await row.innerText(), /shop \d+(\.\d)? MiB[\s\S]*\d+s ago, \d+(\.\d)? (B|KiB)/);
    await row.getByRole("link", { name: "shop/shopdb" }).click();
    const panel = page.getByTestId("database-panel");
    await panel.waitFor();
    assert.match(await panel.innerText(), /answers · PostgreSQL[\s\S]*shop \(shop\) \d+(\.\d)? MiB[\s\S]*schedule \*\/2 \* \* \* \* \* · [23] kept/);
    await page.screenshot({ path: path.join(ARTEFACTS, "database.png"), fullPage: true });
    await page.close();
  }

  const bogus = drover.write("notes.txt", "not a dump");
  const refused = await drover.run(["db", "restore", "shopdb", bogus]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /notes\.txt is not a pg_dump custom-format backup \(it does not start with PGDMP\): nothing was restored/);
  assert.deepEqual(await rows(url, "SELECT count(*)::int AS n FROM orders"), [{ n: 3 }], "the database untouched");

  // The backup folder's disk is full (a 16 KiB tmpfs): the next backups fail, and say so everywhere.
  full = path.join(drover.home, "backups", "shop", "shopdb");
  for (const b of await backups()) fs.rmSync(b.file, { force: true });
  assert.equal(spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", full]).status, 0);
  // Filled to the last byte: writing more than it holds stops at ENOSPC, leaving it full.
  assert.throws(() => fs.writeFileSync(path.join(full!, "filler"), Buffer.alloc(64 * 1024)), /ENOSPC/);
  const filledAt = Date.now();
  const failing = await waitFor("a backup failing since the disk filled", async () => {
    const { backups } = (await dbs())[0]!;
    return backups.lastFailureAt !== null && backups.lastFailureAt > filledAt && backups.lastFailureAt > (backups.lastSuccessAt ?? 0) ? backups : null;
  }, 30_000, 500).catch(async (error: Error) => {
    throw new Error(`${error.message} (filled at ${filledAt}): ${JSON.stringify((await dbs())[0]!.backups)}\n${(await drover.run(["job", "runs", "shop/shopdb-backup"])).stdout}\n${fs.readdirSync(full!).join(" ")}\n${(await drover.run(["job", "logs", "shop/shopdb-backup"])).stdout}`);
  });
  assert.match(failing.lastFailure ?? "", /backup failed: shop: (pg_dump exited 0 but wrote .*|the dump does not read back.*|pg_dump failed.*)/);
  const listed = await drover.run(["db", "ls"]);
  assert.match(listed.stdout, /FAILED \d+s ago: backup failed: shop: /);
  const troubled = await drover.run(["doctor"]);
  assert.equal(troubled.code, 1, "a failing backup is a problem doctor reports");
  assert.match(troubled.stdout, /! database shop\/shopdb .*last backup FAILED \d+s ago: backup failed: shop: /);
  assert.match(troubled.stdout, /! job shop\/shopdb-backup: last run failed \d+s ago, last success \d+[sm] ago \(drover job runs shop\/shopdb-backup\)/);
  if (browser) {
    const page = await loginPage(drover, browser);
    await page.getByRole("link", { name: "Jobs & data" }).click();
    const alert = page.getByTestId("database-shop/shopdb").getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /failed \d+s ago: backup failed: shop: /);
    await page.close();
  }
  const events = await drover.json<EventRecord[]>(["events", "-s", "shop/shopdb-backup", "-n", "1000"]);
  assert.ok(events.some((e) => e.type === "JobRunFailed"));
  const metrics = await (await fetch(`${drover.url}/metrics`, { headers: drover.authorization() })).text();
  assert.match(metrics, /drover_job_last_failure_timestamp_seconds\{namespace="shop",job="shopdb-backup",kind="CronJob"\} \d+/);
});
