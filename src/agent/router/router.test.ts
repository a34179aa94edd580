import { after, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { waitFor } from "../../../test/harness.js";
import { KernelTcp } from "./kernel-tcp.js";
import { Router } from "./router.js";
import { type BackendTarget, errorRate, latencyQuantile, type Route } from "../../contract/index.js";

const servers: net.Server[] = [];
after(() => {
  for (const server of servers) {
    server.close();
    if (server instanceof http.Server) server.closeAllConnections();
  }
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Requests that have reached each test replica, counted on arrival. */
const arrived = new Map<string, number>();

/** A replica that says who it is, echoes bodies and headers, and can be slow or fail. */
async function replica(name: string): Promise<number> {
  const server = http.createServer((req, res) => {
    arrived.set(name, (arrived.get(name) ?? 0) + 1);
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      const delay = Number(url.searchParams.get("delay") ?? 0);
      setTimeout(() => {
        res.writeHead(url.pathname === "/fail" ? 500 : 200, { "content-type": "application/json", connection: "keep-alive" });
        res.end(JSON.stringify({ name, body, forwardedFor: req.headers["x-forwarded-for"], forwardedHost: req.headers["x-forwarded-host"], forwardedPort: req.headers["x-forwarded-port"] }));
      }, delay);
    });
  });
  server.on("upgrade", (req, socket) => {
    socket.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n");
    socket.on("data", (chunk) => socket.write(`${name}:${chunk}`));
    // Upgraded sockets of an http.Server are half-open capable: end when the peer ends.
    socket.on("end", () => socket.end());
  });
  return listen(server);
}

async function freePort(): Promise<number> {
  const port = await listen(net.createServer());
  await new Promise((resolve) => servers.pop()!.close(resolve));
  return port;
}

function route(port: number, patch: Partial<Route> = {}): Route {
  return { service: "t/api", portName: "http", port, protocol: "http", algorithm: "round_robin", weights: null, ...patch };
}

async function get(port: number, path = "/", init: RequestInit = {}): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : { text } };
}

test("HTTP: round robin over ready replicas, bodies and X-Forwarded-* headers, retry past a dead replica, 503 with none", async () => {
  const a = await replica("a");
  const b = await replica("b");
  const dead = await freePort();
  let targets: BackendTarget[] = [{ replica: "a", revision: 1, host: "127.0.0.1", port: a, hostPort: a }, { replica: "dead", revision: 1, host: "127.0.0.1", port: dead, hostPort: dead }, { replica: "b", revision: 1, host: "127.0.0.1", port: b, hostPort: b }];
  const router = new Router(() => targets);
  const port = await freePort();
  assert.deepEqual((await router.sync([route(port)])).map((r) => r.error), [null]);
  try {
    const names = [];
    for (let i = 0; i < 6; i++) names.push((await get(port)).body.name);
    // The request whose turn fell on the dead replica went on to the next one: all six answered.
    assert.equal(names.length, 6);
    assert.deepEqual([...new Set(names)].sort(), ["a", "b"]);
    const posted = await get(port, "/echo", { method: "POST", body: "x".repeat(100_000) });
    assert.equal(posted.body.body!.length, 100_000);
    assert.equal(posted.body.forwardedFor, "127.0.0.1");
    assert.equal(posted.body.forwardedHost, `127.0.0.1:${port}`);
    assert.equal(posted.body.forwardedPort, String(port));
    targets = [];
    assert.equal((await get(port)).status, 503);
    targets = [{ replica: "dead", revision: 1, host: "127.0.0.1", port: dead, hostPort: dead }];
    assert.equal((await get(port)).status, 502);
  } finally {
    router.close();
  }
});

test("HTTP: per-revision weights split requests exactly; counts, status classes and latency per revision", async () => {
  const stable = await replica("stable");
  const canary = await replica("canary");
  const targets = [{ replica: "s", revision: 1, host: "127.0.0.1", port: stable, hostPort: stable }, { replica: "c", revision: 2, host: "127.0.0.1", port: canary, hostPort: canary }];
  const router = new Router(() => targets);
  const port = await freePort();
  await router.sync([route(port, { weights: { 1: 80, 2: 20 } })]);
  try {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const { body } = await get(port, i % 10 === 0 ? "/fail" : "/");
      counts[body.name!] = (counts[body.name!] ?? 0) + 1;
    }
    assert.ok(Math.abs(counts.canary! - 20) <= 2, `canary got ${counts.canary} of 100`);
    const [traffic] = router.traffic("t/api");
    const byRevision = new Map(traffic!.revisions.map((r) => [r.revision, r]));
    assert.equal(byRevision.get(1)!.requests + byRevision.get(2)!.requests, 100);
    assert.equal((byRevision.get(1)!.statuses["5xx"] ?? 0) + (byRevision.get(2)!.statuses["5xx"] ?? 0), 10);
    assert.ok(errorRate(byRevision.get(1)!)! > 0);
    assert.ok(latencyQuantile(byRevision.get(1)!, 0.99)! < 1_000);
    assert.ok(byRevision.get(1)!.bytesOut > 0);
    await router.sync([route(port, { weights: { 1: 0, 2: 100 } })]);
    for (let i = 0; i < 5; i++) assert.equal((await get(port)).body.name, "canary", "a weight change applies at once, on the same listener");
  } finally {
    router.close();
  }
});

test("HTTP: least connections prefers the idle replica; drain waits for requests in flight", async () => {
  const a = await replica("a");
  const b = await replica("b");
  const router = new Router(() => [{ replica: "a", revision: 1, host: "127.0.0.1", port: a, hostPort: a }, { replica: "b", revision: 1, host: "127.0.0.1", port: b, hostPort: b }]);
  const port = await freePort();
  await router.sync([route(port, { algorithm: "least_connections" })]);
  try {
    const total = () => (arrived.get("a") ?? 0) + (arrived.get("b") ?? 0);
    const before = total();
    const slow = get(port, "/?delay=400");
    await waitFor("the slow request at a replica", () => total() > before, 5_000, 5);
    const busy: string[] = [];
    for (let i = 0; i < 3; i++) busy.push((await get(port)).body.name!);
    const slowName = (await slow).body.name;
    assert.ok(busy.every((n) => n !== slowName), `the replica serving the slow request got nothing new: ${busy}`);
    const reached = total();
    const inFlight = get(port, "/?delay=300");
    await waitFor("the request in flight at a replica", () => total() > reached, 5_000, 5);
    const started = Date.now();
    await Promise.all([router.drain("a", 2_000), router.drain("b", 2_000)]);
    assert.ok(Date.now() - started >= 200, `drain waited for the request in flight (${Date.now() - started}ms)`);
    assert.equal((await inFlight).status, 200);
  } finally {
    router.close();
  }
});

test("WebSocket-style upgrades pass through; tcp ports forward bytes and balance connections", async () => {
  const a = await replica("a");
  const echo = net.createServer((socket) => {
    socket.on("data", (chunk) => socket.write(`echo:${chunk}`));
    socket.on("error", () => undefined);
  });
  const echoPort = await listen(echo);
  const router = new Router((service) => (service === "t/api" ? [{ replica: "a", revision: 1, host: "127.0.0.1", port: a, hostPort: a }] : [{ replica: "e", revision: 1, host: "127.0.0.1", port: echoPort, hostPort: echoPort }]));
  const httpPort = await freePort();
  const tcpPort = await freePort();
  await router.sync([route(httpPort), route(tcpPort, { service: "t/raw", protocol: "tcp" })]);
  try {
    const talk = (port: number, first: string, then: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect({ port, host: "127.0.0.1" });
        let seen = "";
        socket.on("data", (chunk) => {
          seen += chunk;
          if (seen.includes("\r\n\r\n") && !seen.includes("a:") && then) socket.write(then);
          if (seen.endsWith(then ? `:${then}` : "")) {
            socket.destroy();
            resolve(seen);
          }
        });
        socket.on("error", reject);
        socket.write(first);
      });
    const upgraded = await talk(httpPort, "GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n", "ping");
    assert.match(upgraded, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(upgraded, /a:ping$/);
    const raw = await talk(tcpPort, "hello", "");
    assert.equal(raw, "echo:hello");
    const tcpTraffic = router.traffic("t/raw")[0]!.revisions[0]!;
    assert.equal(tcpTraffic.connections, 1);
  } finally {
    router.close();
  }
});

const kernelPossible = process.getuid?.() === 0 && spawnSync("iptables", ["--version"]).status === 0;

test("tcp ports through the kernel: connections are DNAT-ed to a replica, never pass through drover; rules go on close", { skip: kernelPossible ? false : "needs root and iptables" }, async () => {
  const echo = net.createServer((socket) => {
    socket.on("data", (chunk) => socket.end(`kernel:${chunk}`));
    socket.on("error", () => undefined);
  });
  const echoPort = await listen(echo);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "drover-kernel-"));
  const { kernel, detail } = KernelTcp.detect(home, "127.0.0.1");
  assert.ok(kernel, detail);
  // No replica is ready at first: the rule comes when one is (membership changes after the sync).
  let targets: BackendTarget[] = [];
  const router = new Router(() => targets, "127.0.0.1", kernel);
  const port = await freePort();
  await router.sync([route(port, { service: "t/raw", protocol: "tcp" })]);
  // A second sync with nothing new changes nothing (and must not wedge later updates).
  await router.sync([route(port, { service: "t/raw", protocol: "tcp" })]);
  const exchange = () =>
    new Promise<string>((resolve) => {
      const socket = net.connect({ port, host: "127.0.0.1" });
      let seen = "";
      socket.on("data", (chunk) => (seen += chunk));
      socket.on("close", () => resolve(seen));
      socket.on("error", () => resolve(""));
      socket.write("hi");
    });
  try {
    assert.equal(await exchange(), "", "no replica: the connection is closed");
    targets = [{ replica: "e", revision: 1, host: "127.0.0.1", port: echoPort, hostPort: echoPort }];
    router.membershipChanged();
    const ruled = () => spawnSync("iptables", ["-t", "nat", "-S"], { encoding: "utf8" }).stdout.includes(`--dport ${port} `);
    await waitFor("a DNAT rule for the port once a replica is ready", () => ruled(), 5_000, 20);
    assert.equal(await exchange(), "kernel:hi");
    assert.deepEqual(router.traffic("t/raw"), [], "the Node forwarder saw no connection");
  } finally {
    router.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
  assert.ok(!spawnSync("iptables", ["-t", "nat", "-S"], { encoding: "utf8" }).stdout.includes(`--dport ${port} `), "no rule left behind");
});

test("a replica whose connect hangs (a node gone without a word): HTTP requests and tcp connections go on to the next one after the connect timeout", { skip: kernelPossible ? false : "needs root and iptables" }, async () => {
  const a = await replica("a");
  const echo = net.createServer((socket) => {
    socket.on("data", (chunk) => socket.write(`echo:${chunk}`));
    socket.on("error", () => undefined);
  });
  const echoPort = await listen(echo);
  // Its SYNs go nowhere, as to an address whose machine vanished: no refusal, only silence.
  const silent = await freePort();
  const rule = ["OUTPUT", "-o", "lo", "-p", "tcp", "-d", "127.0.0.1", "--dport", String(silent), "--syn", "-j", "DROP"];
  assert.equal(spawnSync("iptables", ["-I", ...rule]).status, 0);
  const hung = (service: string): BackendTarget => ({ replica: `${service}-hung`, revision: 1, host: "127.0.0.1", port: silent, hostPort: silent });
  const router = new Router((service) => (service === "t/api" ? [hung("a"), { replica: "a", revision: 1, host: "127.0.0.1", port: a, hostPort: a }] : [hung("e"), { replica: "e", revision: 1, host: "127.0.0.1", port: echoPort, hostPort: echoPort }]));
  const httpPort = await freePort();
  const tcpPort = await freePort();
  await router.sync([route(httpPort), route(tcpPort, { service: "t/raw", protocol: "tcp" })]);
  try {
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const answer = await get(httpPort);
      const took = performance.now() - started;
      assert.equal(answer.status, 200);
      assert.equal(answer.body.name, "a");
      assert.ok(took < 8_000, `answered within the connect timeout and a retry: ${Math.round(took)} ms`);
    }
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ port: tcpPort, host: "127.0.0.1" });
      socket.on("data", (chunk) => {
        socket.destroy();
        resolve(String(chunk));
      });
      socket.on("error", reject);
      socket.write("hello");
    });
    assert.equal(raw, "echo:hello");
  } finally {
    router.close();
    spawnSync("iptables", ["-D", ...rule]);
  }
});
