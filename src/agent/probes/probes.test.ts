import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { httpGet } from "./http.js";
import { waitFor } from "../../../test/harness.js";
import { ProbeRunner } from "./probe-runner.js";
import { tcpProbe } from "./tcp.js";
import type { ProbeOutcome } from "../../contract/index.js";

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

test("http_get: 2xx and 3xx pass, others fail; headers are sent; the timeout is enforced", async (t) => {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(String(req.headers["x-probe"]));
    if (req.url === "/slow") return setTimeout(() => res.end("late"), 2_000).unref();
    res.writeHead(Number(req.url!.slice(1)), { location: "/" });
    res.end();
  });
  const port = await listen(server);
  t.after(() => server.close());
  server.unref();
  const get = (path: string, timeout = 1_000) => httpGet({ port, path, scheme: "http", headers: { "x-probe": "yes" } }, timeout);
  assert.deepEqual([(await get("/200")).ok, (await get("/302")).ok, (await get("/404")).ok, (await get("/500")).ok], [true, true, false, false]);
  assert.equal((await get("/503")).message, "HTTP 503");
  assert.equal(seen[0], "yes");
  const started = Date.now();
  const slow = await get("/slow", 150);
  assert.equal(slow.ok, false);
  assert.match(slow.message, /no answer within 150ms/);
  assert.ok(Date.now() - started < 1_000, "the timeout ends the probe");
  server.closeAllConnections();
});

test("tcp_socket and http_get against a closed port fail with connection refused", async () => {
  const server = net.createServer();
  const port = await listen(server);
  assert.equal((await tcpProbe(port, 500)).ok, true);
  await new Promise((resolve) => server.close(resolve));
  assert.deepEqual([(await tcpProbe(port, 500)).message, (await httpGet({ port, path: "/", scheme: "http", headers: {} }, 500)).message], ["connection refused", "connection refused"]);
});

test("runner: thresholds turn results into verdicts, reported only when they change", async () => {
  const script = [true, false, false, true, true, false];
  const verdicts: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let runs = 0;
  const check = async (): Promise<ProbeOutcome> => {
    const ok = script[runs++] ?? true;
    if (runs === script.length) setImmediate(done);
    return { ok, message: ok ? "ok" : "no", latencyMs: 0 };
  };
  const runner = new ProbeRunner("readiness", "test", { initialDelayMs: 0, periodMs: 5, timeoutMs: 5, failureThreshold: 2, successThreshold: 2 }, check, (r) => verdicts.push(r.verdict));
  const keepAlive = setInterval(() => undefined, 1_000);
  runner.start(Date.now());
  await finished;
  runner.stop();
  clearInterval(keepAlive);
  // T F F(→failing) T T(→passing) F(one failure: still passing)
  assert.deepEqual(verdicts, ["failing", "passing"]);
  assert.equal(runner.report().consecutiveFailures, 1);
});

test("runner: one run in flight at most; slots missed by a slow run are skipped, and the grid does not drift", async () => {
  const period = 40;
  const starts: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const check = async (): Promise<ProbeOutcome> => {
    starts.push(Date.now());
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    // The second run takes 2.5 periods: the two slots it overlaps are skipped.
    await new Promise((resolve) => setTimeout(resolve, starts.length === 2 ? period * 2.5 : 1));
    inFlight--;
    return { ok: true, message: "ok", latencyMs: 0 };
  };
  const runner = new ProbeRunner("liveness", "test", { initialDelayMs: 0, periodMs: period, timeoutMs: 1_000, failureThreshold: 1, successThreshold: 1 }, check, () => undefined);
  const first = Date.now();
  runner.start(first);
  await waitFor("six runs", () => starts.length >= 6, 5_000, 5);
  runner.stop();
  assert.equal(maxInFlight, 1);
  const slots = starts.map((s) => Math.round((s - first) / period));
  assert.deepEqual(slots.slice(0, 4), [0, 1, 4, 5], `slots ${slots.join(",")}`);
  // Each run starts on its slot (timer lateness aside), not later and later.
  for (const [i, s] of starts.entries()) assert.ok(s - first - slots[i]! * period < period / 2, `run ${i} started ${s - first}ms after the first`);
});
