import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { listeningPorts, whenListening } from "./listen-watch.js";

test("listening ports are read from /proc/net, IPv4 and IPv6", async () => {
  const v4 = net.createServer();
  const v6 = net.createServer();
  await new Promise<void>((resolve) => v4.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => v6.listen(0, "::1", resolve));
  try {
    const ports = listeningPorts();
    assert.ok(ports.has((v4.address() as net.AddressInfo).port));
    assert.ok(ports.has((v6.address() as net.AddressInfo).port));
  } finally {
    v4.close();
    v6.close();
  }
});

test("the watcher calls back once a port starts listening, and not after a cancel", async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  let cancelledCalled = false;
  const cancel = whenListening(port, "127.0.0.1", () => (cancelledCalled = true));
  cancel();
  const keepAlive = setInterval(() => undefined, 1000);
  const heard = new Promise<void>((resolve) => whenListening(port, "127.0.0.1", resolve));
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  await heard;
  clearInterval(keepAlive);
  server.close();
  assert.equal(cancelledCalled, false);
});
