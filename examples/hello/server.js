#!/usr/bin/env node
// A tiny dependency-free HTTP service for trying drover and for its tests. Its failure modes are
// chosen by environment variables (times in seconds):
//   START_DELAY        wait before listening (a slow start)
//   CRASH_AFTER        exit with EXIT_CODE (default 1) after this long
//   FAIL_HEALTH_AFTER  /health answers 500 from then on (alive but unhealthy)
//   HANG_AFTER         block the event loop for good (alive, answering nothing)
//   NOT_READY_AFTER    /ready answers 503 from then on
//   CPU_BURN           burn this share of one core (0..1) in the background
//   ALLOC_MB           allocate and hold this many MiB at start
//   IGNORE_SIGTERM     1: ignore SIGTERM (to exercise the stop grace period)
//   MESSAGE            text included in every answer
//   ERROR_RATE         share of requests to / answered with 500 (0..1), spread evenly
// Endpoints: / (who am I), /health, /ready, /env/NAME, /work?ms=N (burns N ms of CPU), POST /crash, POST /hang,
// POST /ready/off and POST /ready/on (make /ready answer 503 or 200 from now on).
import http from "node:http";

const env = process.env;
const seconds = (name) => (env[name] === undefined ? undefined : Number(env[name]) * 1000);
const port = Number(env.PORT ?? 8080);
const startedAt = Date.now();
const since = (name) => seconds(name) !== undefined && Date.now() - startedAt >= seconds(name);
const held = [];
let readyOff = false;
let errorCredit = 0;

function log(message) {
  process.stdout.write(`${new Date().toISOString()} hello[${process.pid}] ${message}\n`);
}

function hang() {
  log("hanging");
  for (;;);
}

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/health") return json(res, since("FAIL_HEALTH_AFTER") ? 500 : 200, { healthy: !since("FAIL_HEALTH_AFTER") });
  if (url.pathname === "/ready" && req.method === "GET") {
    const ready = !readyOff && !since("NOT_READY_AFTER");
    return json(res, ready ? 200 : 503, { ready });
  }
  if ((url.pathname === "/ready/off" || url.pathname === "/ready/on") && req.method === "POST") {
    readyOff = url.pathname === "/ready/off";
    log(`readiness turned ${readyOff ? "off" : "on"}`);
    return json(res, 200, { ready: !readyOff });
  }
  if (url.pathname.startsWith("/env/")) return json(res, 200, { value: env[url.pathname.slice(5)] ?? null });
  if (url.pathname === "/work") {
    // CPU-heavy: spin for ?ms= milliseconds (default 20) before answering.
    const until = performance.now() + Number(url.searchParams.get("ms") ?? 20);
    let spins = 0;
    while (performance.now() < until) spins++;
    return json(res, 200, { replica: env.DROVER_REPLICA ?? null, spins });
  }
  if (url.pathname === "/crash" && req.method === "POST") {
    json(res, 200, { crashing: true });
    return setTimeout(crash, 10);
  }
  if (url.pathname === "/hang" && req.method === "POST") {
    json(res, 200, { hanging: true });
    return setTimeout(hang, 10);
  }
  // Every 1/ERROR_RATE-th request fails: an exact share, not a random one, so tests can count.
  errorCredit += Number(env.ERROR_RATE ?? 0);
  const failing = errorCredit >= 1;
  if (failing) errorCredit -= 1;
  json(res, failing ? 500 : 200, {
    service: env.DROVER_SERVICE ?? "hello",
    replica: env.DROVER_REPLICA ?? null,
    revision: env.DROVER_REVISION ?? null,
    pid: process.pid,
    message: env.MESSAGE ?? "hello",
  });
});

function listen() {
  server.listen(port, env.HOST ?? "127.0.0.1", () => log(`listening on ${port}`));
}

if (seconds("START_DELAY")) setTimeout(listen, seconds("START_DELAY"));
else listen();

function crash() {
  log(`crashing with code ${env.EXIT_CODE ?? 1}`);
  process.exit(Number(env.EXIT_CODE ?? 1));
}

if (seconds("CRASH_AFTER") !== undefined) setTimeout(crash, seconds("CRASH_AFTER"));
if (seconds("HANG_AFTER") !== undefined) setTimeout(hang, seconds("HANG_AFTER"));
if (env.ALLOC_MB) held.push(Buffer.alloc(Number(env.ALLOC_MB) * 1024 * 1024, 1));
if (env.CPU_BURN) {
  const share = Math.min(1, Math.max(0, Number(env.CPU_BURN)));
  setInterval(() => {
    const until = Date.now() + 100 * share;
    while (Date.now() < until);
  }, 100).unref?.();
}

process.on("SIGTERM", () => {
  if (env.IGNORE_SIGTERM === "1") return log("ignoring SIGTERM");
  log("SIGTERM: closing");
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
