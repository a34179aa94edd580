import { after, test } from "node:test";
import assert from "node:assert/strict";
import { Drover, freePort } from "./harness.js";

const drovers: Drover[] = [];
after(async () => Promise.all(drovers.map((d) => d.cleanup())));

test("one server per DROVER_HOME; a busy address is named; kill -9 leaves no stale lock", async () => {
  const drover = await Drover.started();
  drovers.push(drover);

  const second = await drover.run(["server", "--listen", `127.0.0.1:${await freePort()}`]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /another drover server is using this DROVER_HOME/);

  const other = await Drover.create();
  drovers.push(other);
  const clash = await other.run(["server", "--listen", `127.0.0.1:${drover.apiPort}`]);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, new RegExp(`127\\.0\\.0\\.1:${drover.apiPort} is already in use`));

  await drover.killServer();
  await drover.startServer();
  assert.ok(await drover.healthy(), "a new server takes the home after kill -9");
});

test("the API demands the token from DROVER_HOME/api.token, which only its owner can read", async () => {
  const drover = await Drover.started();
  drovers.push(drover);
  const { mode } = await import("node:fs").then((fs) => fs.statSync(`${drover.home}/api.token`));
  assert.equal(mode & 0o777, 0o600);
  assert.equal((await fetch(`${drover.url}/api/v1/health`)).status, 200, "health needs no token");
  const anonymous = await fetch(`${drover.url}/api/v1/services`);
  assert.equal(anonymous.status, 401);
  assert.match(((await anonymous.json()) as { message: string }).message, /no bearer token: send "Authorization: Bearer <token>"/);
  const wrong = await fetch(`${drover.url}/api/v1/apply`, { method: "POST", headers: { authorization: "Bearer nope", "content-type": "application/json" }, body: "{}" });
  assert.equal(wrong.status, 401);
  assert.equal((await drover.api("/api/v1/services")).status, 200);
  assert.equal((await drover.run(["get"])).code, 0, "the CLI sends the token");
});

test("doctor: version, uptime, store, free space, runtimes, router, energy source; exit 1 without a server", async () => {
  const drover = await Drover.started();
  drovers.push(drover);
  const report = await drover.run(["doctor"]);
  assert.equal(report.code, 0, report.stdout);
  assert.match(report.stdout, /✓ server \d+\.\d+\.\d+, pid \d+ at http:\/\/127\.0\.0\.1:\d+, up \d+/);
  assert.match(report.stdout, /✓ store takes writes \([\d.]+ ms to lock and release\)/);
  assert.match(report.stdout, /free \(\d+%\) where DROVER_HOME is/);
  assert.match(report.stdout, /process runtime; /);
  assert.match(report.stdout, /tcp ports: (kernel DNAT|Node forwarder)/);
  assert.match(report.stdout, /energy figures: (measured \(RAPL\)|estimated by the utilisation model)/);
  await drover.killServer();
  const alone = await drover.run(["doctor"]);
  assert.equal(alone.code, 1);
  assert.match(alone.stdout, /no server at http:\/\/127\.0\.0\.1:\d+; "drover up" or "drover server" starts one/);
});
