/**
 * Ports beyond "the replica listens on the service port": `target_port` (a container's own fixed
 * port, or a fixed port for a process) and `expose: false` (the router on loopback only). The
 * server's router address is 127.0.0.2 here, so an exposed port and a loopback-only one are told
 * apart by where they answer.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import type { ReplicaRecord, ServiceSummary } from "../src/contract/index.js";
import { Drover, dockerUnavailable, freePort, HELLO, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.create();
  drover.env.DROVER_ROUTER_HOST = "127.0.0.2";
  await drover.startServer();
});
after(async () => drover?.cleanup());

const ready = async (service: string) => (await drover.replicasOf(service)).filter((r: ReplicaRecord) => r.state === "ready");

/** Whether something accepts a connection at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("a process with target_port listens there (PORT), behind its service port; a rollout stops the old replica first", async () => {
  const [port, target] = [await freePort(), await freePort()];
  const service = (message: string) => `apiVersion: drover/v1
kind: Service
metadata: {name: fixed, namespace: ports}
spec:
  command: [node, server.js]
  working_dir: ${HELLO}
  networking: {ports: [{name: http, port: ${port}, target_port: ${target}}]}
  deployment: {rolling: {max_surge: 0, max_unavailable: 1}}
  stop: {grace_period: 3s}
  configuration: {environment: {MESSAGE: ${message}}}
`;
  assert.equal((await drover.run(["apply", "-f", drover.write("fixed.yaml", service("one"))])).code, 0);
  await waitFor("the replica ready", async () => (await ready("ports/fixed")).length === 1, 20_000);
  const [replica] = await ready("ports/fixed");
  assert.equal(replica!.ports.http, target, "the replica's port is its target_port");
  const direct = (await (await fetch(`http://127.0.0.1:${target}/env/PORT`)).json()) as { value: string };
  assert.equal(direct.value, String(target), "PORT is the target port");
  const routed = (await (await fetch(`http://127.0.0.2:${port}/`)).json()) as { message: string };
  assert.equal(routed.message, "one");

  assert.equal((await drover.run(["apply", "-f", drover.write("fixed.yaml", service("two"))])).code, 0);
  await waitFor("the new revision answering", async () => {
    const body = (await (await fetch(`http://127.0.0.2:${port}/`).catch(() => null))?.json().catch(() => null)) as { message?: string } | null;
    return body?.message === "two";
  }, 30_000, 200);
  await waitFor("one replica of the new revision", async () => {
    const replicas = await drover.replicasOf("ports/fixed");
    return replicas.length === 1 && replicas[0]!.revision === 2 && replicas[0]!.state === "ready";
  }, 20_000);
  const describe = await drover.run(["describe", "ports/fixed"]);
  assert.match(describe.stdout, new RegExp(`Ports:\\s+http ${port}→${target}/http`));
});

test("expose: false: the router answers on loopback only; an exposed port on the router's address only", async () => {
  const [inner, outer] = [await freePort(), await freePort()];
  const service = (name: string, port: number, expose: boolean) => `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: ports}
spec:
  command: [node, server.js]
  working_dir: ${HELLO}
  networking: {ports: [{name: http, port: ${port}, expose: ${expose}}]}
  stop: {grace_period: 3s}
`;
  const file = drover.write("expose.yaml", `${service("inner", inner, false)}---\n${service("outer", outer, true)}`);
  assert.equal((await drover.run(["apply", "-f", file])).code, 0);
  await waitFor("both ready", async () => (await ready("ports/inner")).length === 1 && (await ready("ports/outer")).length === 1, 20_000);
  assert.equal(((await (await fetch(`http://127.0.0.1:${inner}/`)).json()) as { service: string }).service, "inner");
  assert.equal(await accepts("127.0.0.2", inner), false, "no listener on the router's address for expose: false");
  assert.equal(((await (await fetch(`http://127.0.0.2:${outer}/`)).json()) as { service: string }).service, "outer");
  assert.equal(await accepts("127.0.0.1", outer), false, "an exposed port listens on the router's address");
});

test("a process target_port a rollout cannot surge past, or a target_port on udp, is refused at its place", async () => {
  const port = await freePort();
  const service = (ports: string, deployment = "") => `apiVersion: drover/v1
kind: Service
metadata: {name: surge, namespace: ports}
spec:
  command: [node, server.js]
  working_dir: ${HELLO}
  networking: {ports: [${ports}]}
${deployment}`;
  const result = await drover.run(["apply", "-f", drover.write("surge.yaml", service(`{name: http, port: ${port}, target_port: 9999}`))]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /surge\.yaml:7:\d+ spec\.networking\.ports\[0\]\.target_port: a process binds its target_port on its node, so a new replica cannot start beside the old one: set deployment\.rolling\.max_surge: 0 and max_unavailable: 1/);
  const udp = service(`{name: dns, port: ${port}, target_port: 9999, protocol: UDP}`, "  deployment: {rolling: {max_surge: 0, max_unavailable: 1}}\n");
  const refused = await drover.run(["apply", "-f", drover.write("udp.yaml", udp)]);
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /spec\.networking\.ports\[0\]\.target_port: a udp port is not proxied/);
  assert.ok(!(await drover.json<ServiceSummary[]>(["get"])).some((s) => s.name === "ports/surge"), "nothing applied");
});

const dockerSkip = dockerUnavailable() ?? false;

test("two containers of one image listening on the same port inside (httpd on 80) behind two service ports, both answering", { skip: dockerSkip }, async () => {
  const [first, second] = [await freePort(), await freePort()];
  const web = (name: string, port: number) => `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: ports}
spec:
  image: {repository: drover-test/busybox, tag: "1", pullPolicy: Never}
  command: [httpd, -f, -p, "80", -h, /etc]
  networking: {ports: [{name: http, port: ${port}, target_port: 80}]}
  stop: {grace_period: 2s}
`;
  assert.equal((await drover.run(["apply", "-f", drover.write("httpd.yaml", `${web("httpd-a", first)}---\n${web("httpd-b", second)}`)])).code, 0);
  await waitFor("both ready", async () => (await ready("ports/httpd-a")).length === 1 && (await ready("ports/httpd-b")).length === 1, 60_000, 200);
  for (const port of [first, second]) {
    const response = await fetch(`http://127.0.0.2:${port}/passwd`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^root:x:0:0:/);
  }
  for (const name of ["httpd-a", "httpd-b"]) assert.equal((await drover.run(["delete", `ports/${name}`])).code, 0);
});
