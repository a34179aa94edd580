/**
 * Operating the store: moving a SQLite server's state to PostgreSQL (interrupted by kill -9 and
 * run again), and what a server says about a store it cannot use. PostgreSQL here asks for a
 * password, as a real one does.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { CLI, Drover, freePort, helloService, waitFor } from "./harness.js";
import { TestPostgres } from "./postgres-harness.js";

const PASSWORD = "pw-for-the-tests";
let postgres: TestPostgres;
const drovers: Drover[] = [];
before(async () => {
  postgres = await TestPostgres.start({ password: PASSWORD });
});
after(async () => {
  await Promise.all(drovers.map((d) => d.cleanup()));
  await postgres?.close();
});

async function sqliteDrover(): Promise<Drover> {
  const drover = await Drover.create();
  // This file is about moving from SQLite: its source server stays on SQLite whatever the suite runs on.
  for (const key of ["DROVER_STORE", "DROVER_CLUSTER_LISTEN", "DROVER_LOCAL_NODE"]) delete drover.env[key];
  drovers.push(drover);
  return drover;
}

const count = async (url: string, table: string) => Number((await postgres.sql(`SELECT count(*) AS n FROM ${table}`, new URL(url).pathname.slice(1))).rows[0].n);

test("store migrate: a SQLite server's whole state moves to PostgreSQL in one transaction; kill -9 midway leaves nothing, the rerun completes, a server there runs it", async () => {
  const source = await sqliteDrover();
  await source.startServer();
  const port = await freePort();
  const text = `apiVersion: drover/v1\nkind: Secret\nmetadata: {name: creds, namespace: test}\nstring_data: {TOKEN: moved-secret}\n---\n${helloService("moved", port, { replicas: 2, extra: "    secrets: [creds]\n" })}`;
  assert.equal((await source.run(["up", "-f", source.write("app.yaml", text)])).code, 0);
  assert.equal((await source.run(["scale", "moved", "1"])).code, 0);
  const history = await source.json<unknown[]>(["history", "moved"]);
  const database = path.join(source.home, "drover.db");
  const url = await postgres.createDatabase();

  const busy = await source.run(["store", "migrate", "--from", `sqlite:${database}`, "--to", url]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /a drover server is using sqlite:.*: stop it first/);
  const same = await source.run(["store", "migrate", "--from", url, "--to", url]);
  assert.equal(same.code, 2);
  assert.equal((await source.run(["down"])).code, 0);

  // Enough rows that the copy takes a while: it is caught inside its transaction.
  await source.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO events (time, type, service, replica, reason, message) SELECT ?, 'Filler', NULL, NULL, 'Filler', 'filler ' || i FROM n", [Date.now()]);
  const interrupted = spawn(process.execPath, [CLI, "store", "migrate", "--from", `sqlite:${database}`, "--to", url], { env: source.env, stdio: "ignore" });
  const exited = new Promise((resolve) => interrupted.once("exit", resolve));
  const name = new URL(url).pathname.slice(1);
  await waitFor("the copy under way", async () => Number((await postgres.sql("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'drover' AND query LIKE 'INSERT INTO events%'", name)).rows[0].n) > 0, 20_000, 5);
  interrupted.kill("SIGKILL");
  await exited;
  assert.deepEqual([await count(url, "services"), await count(url, "events"), await count(url, "audit")], [0, 0, 0], "nothing half-written");

  const rerun = await source.run(["store", "migrate", "--from", `sqlite:${database}`, "--to", url]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stdout, /copied 1 services from .*drover\.db to postgres@127\.0\.0\.1:\d+\/drover_\w+ \(.*\d+ events/);
  assert.ok(!rerun.stdout.includes(PASSWORD), "the password is never printed");
  assert.ok((await count(url, "events")) > 20_000);
  const raw = String((await postgres.sql("SELECT data FROM config_objects WHERE kind = 'Secret'", name)).rows[0].data);
  assert.ok(!raw.includes("moved-secret"), "secrets stay sealed");
  const again = await source.run(["store", "migrate", "--from", `sqlite:${database}`, "--to", url]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /has services already.*--replace empties it first/);

  // A server on the new store, with the old key, runs what the old one ran; the old tokens work there.
  const target = await Drover.create();
  drovers.push(target);
  Object.assign(target.env, { DROVER_STORE: url, DROVER_MASTER_KEY: fs.readFileSync(path.join(source.home, "master.key"), "utf8").trim(), DROVER_CLUSTER_LISTEN: `127.0.0.1:${await freePort()}`, DROVER_LOCAL_NODE: "1" });
  const up = await target.run(["up"]);
  assert.equal(up.code, 0, `${up.stderr}\n${fs.readFileSync(path.join(target.home, "server.log"), "utf8").slice(-3000)}`);
  assert.deepEqual(await target.json<unknown[]>(["history", "moved"]), history);
  assert.equal(((await (await fetch(`http://127.0.0.1:${port}/env/TOKEN`)).json()) as { value: string }).value, "moved-secret");
  assert.equal((await target.run(["audit", "verify"])).code, 0, "the audit chain is intact");
  const oldToken = fs.readFileSync(path.join(source.home, "api.token"), "utf8").trim();
  assert.equal((await fetch(`${target.url}/api/v1/services`, { headers: { authorization: `Bearer ${oldToken}` } })).status, 200);
});

test("a wrong password or address, a bad URL, a database of a newer drover: the server says what failed (exit 1, no stack trace) and starts nothing", async () => {
  const drover = await sqliteDrover();
  const server = (store: string) => drover.run(["server", "--store", store]);
  const url = await postgres.createDatabase();
  const wrong = url.replace(PASSWORD, "not-the-password");
  const cases: Array<[string, RegExp]> = [
    [wrong, /cannot open the PostgreSQL store postgres@127\.0\.0\.1:\d+\/drover_\w+: password authentication failed for user "postgres"/],
    [`postgres://postgres:${PASSWORD}@127.0.0.1:${await freePort()}/drover`, /cannot open the PostgreSQL store .*: nothing listens there \(is PostgreSQL running\?\)/],
    ["postgres://user:pw@[::1/drover", /the store URL is not a valid URL \(expected postgres:\/\/user:password@host:5432\/database\)/],
  ];
  const store = await PostgresStore.open(url);
  await store.close();
  await postgres.sql("UPDATE drover_schema SET version = 999", new URL(url).pathname.slice(1));
  cases.push([url, /the PostgreSQL store postgres@127\.0\.0\.1:\d+\/drover_\w+: the database was written by a newer drover \(schema 999, this one knows \d+\)/]);
  for (const [given, message] of cases) {
    const result = await server(given);
    assert.equal(result.code, 1, `${given}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    assert.ok(!result.stderr.includes("not-the-password"), "the password is never printed");
    assert.equal(await drover.healthy(), false);
  }
  assert.ok(!fs.existsSync(path.join(drover.home, "server.json")));
});
