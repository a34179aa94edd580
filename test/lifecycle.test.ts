import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { EventRecord, ReplicaRecord, ServiceSummary } from "../src/contract/index.js";
import { Drover, freePort, helloService, REPO, waitFor } from "./harness.js";

const drovers: Drover[] = [];
after(async () => Promise.all(drovers.map((d) => d.cleanup())));

async function answer(port: number): Promise<{ replica: string; pid: number; message: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? ((await response.json()) as { replica: string; pid: number; message: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** examples/shop.yaml with its service ports moved to free ones, so tests can run side by side. */
async function shopOnFreePorts(drover: Drover): Promise<{ file: string; ports: { storefront: number; catalog: number; orders: number } }> {
  const ports = { storefront: await freePort(), catalog: await freePort(), orders: await freePort() };
  const text = fs
    .readFileSync(path.join(REPO, "examples/shop.yaml"), "utf8")
    .replace("port: 8080", `port: ${ports.storefront}`)
    .replace("port: 8081", `port: ${ports.catalog}`)
    .replace("port: 8082", `port: ${ports.orders}`)
    .replaceAll("working_dir: ./hello", `working_dir: ${path.join(REPO, "examples/hello")}`);
  return { file: drover.write("shop.yaml", text), ports };
}

test("up: the shop comes up, survives kill -9 of a replica and of the server, and is re-adopted", async () => {
  const drover = await Drover.create();
  drovers.push(drover);
  const { file, ports } = await shopOnFreePorts(drover);

  const up = await drover.run(["up", "-f", file, "--timeout", "60s"]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /all ready/);
  const services = await drover.json<ServiceSummary[]>(["get"]);
  assert.deepEqual(services.map((s) => [s.name, s.status, s.ready]), [["shop/catalog", "ready", 2], ["shop/orders", "ready", 2], ["shop/storefront", "ready", 1]]);
  for (const [name, port] of Object.entries(ports)) assert.equal((await answer(port))?.message, name, `${name} answers on ${port}`);

  // Dependencies: orders started only after a catalog replica was ready.
  const events = await drover.json<EventRecord[]>(["events", "-n", "200"]);
  const firstReady = (service: string) => events.find((e) => e.service === service && e.type === "ReplicaReady")!.id;
  const firstStart = (service: string) => events.find((e) => e.service === service && e.type === "ReplicaStarted")!.id;
  assert.ok(firstStart("shop/orders") > firstReady("shop/catalog"), "orders waited for catalog");
  assert.ok(firstStart("shop/storefront") > firstReady("shop/orders"), "storefront waited for orders");

  // kill -9 of a replica: it is restarted, ps counts it, the event says why.
  const [victim] = await drover.json<ReplicaRecord[]>(["ps", "storefront"]);
  process.kill(victim!.pid!, "SIGKILL");
  const back = await waitFor("the killed replica to be ready again", async () => {
    const [replica] = await drover.json<ReplicaRecord[]>(["ps", "storefront"]);
    return replica?.state === "ready" && replica.pid !== victim!.pid ? replica : undefined;
  });
  assert.equal(back.restarts, 1);
  assert.equal(back.lastExit?.signal, "SIGKILL");
  assert.equal((await answer(ports.storefront))?.pid, back.pid);
  const exitEvent = (await drover.json<EventRecord[]>(["events", "-s", "storefront"])).find((e) => e.type === "ReplicaExited");
  assert.match(exitEvent!.message, /killed by SIGKILL; restarting now/);
  const psText = await drover.run(["ps", "storefront"]);
  assert.match(psText.stdout, /storefront-\w+\s+shop\/storefront\s+local\s+1\s+ready\s+\d+\s+\d+\s+1\s+SIGKILL/);

  // kill -9 of the server: replicas keep running and answering on their own ports.
  const before = await drover.json<ReplicaRecord[]>(["ps"]);
  await drover.killServer();
  for (const replica of before) {
    assert.doesNotThrow(() => process.kill(replica.pid!, 0), `${replica.id} survives the server`);
    assert.equal((await answer(replica.ports.http ?? 0))?.replica, replica.id);
  }

  // up again: the same replicas are re-adopted, nothing restarts.
  const again = await drover.run(["up", "-f", file, "--timeout", "30s"]);
  assert.equal(again.code, 0, again.stderr);
  const after = await drover.json<ReplicaRecord[]>(["ps"]);
  assert.deepEqual(after.map((r) => [r.id, r.pid, r.restarts]).sort(), before.map((r) => [r.id, r.pid, r.restarts]).sort());
  assert.ok((await drover.json<EventRecord[]>(["events", "-n", "500"])).some((e) => e.type === "ReplicaAdopted"));
  for (const [name, port] of Object.entries(ports)) assert.equal((await answer(port))?.message, name, `${name} answers after re-adoption`);
});

test("scale, stop, start, restart, logs, history and delete", async () => {
  const drover = await Drover.started();
  drovers.push(drover);
  const port = await freePort();
  const file = drover.write("web.yaml", helloService("web", port, { replicas: 1, env: { MESSAGE: "v1" } }));
  assert.equal((await drover.run(["apply", "-f", file, "--yes"])).code, 0);
  const ready = (count: number) => waitFor(`${count} ready web replicas`, async () => {
    const [s] = await drover.json<ServiceSummary[]>(["get", "web"]);
    return s?.status === "ready" && s.ready === count ? s : undefined;
  });
  await ready(1);

  assert.equal((await drover.run(["scale", "web", "3"])).code, 0);
  await ready(3);
  assert.equal((await drover.run(["scale", "web", "1"])).code, 0);
  await waitFor("scale down to 1", async () => (await drover.json<ReplicaRecord[]>(["ps", "web"])).length === 1);

  const logs = await drover.run(["logs", "web", "--tail", "5"]);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /listening on \d+/);

  assert.equal((await drover.run(["stop", "web"])).code, 0);
  await waitFor("every replica stopped", async () => (await drover.json<ReplicaRecord[]>(["ps", "web"])).length === 0);
  assert.equal((await answer(port)), undefined, "a stopped service does not answer");
  assert.match((await drover.run(["plan", "-f", file])).stdout, /~ change {2}Service test\/web\n\s+~ status: "stopped" → "running"/, "the plan says apply would start it");
  assert.equal((await drover.run(["start", "web"])).code, 0);
  await ready(1);

  const [first] = await drover.json<ReplicaRecord[]>(["ps", "web"]);
  assert.equal((await drover.run(["restart", "web"])).code, 0);
  await waitFor("a replaced replica on revision 2", async () => {
    const replicas = await drover.json<ReplicaRecord[]>(["ps", "web"]);
    return replicas.length === 1 && replicas[0]!.revision === 2 && replicas[0]!.state === "ready" && replicas[0]!.id !== first!.id;
  });

  const changed = drover.write("web2.yaml", helloService("web", port, { replicas: 1, env: { MESSAGE: "v2" } }));
  const plan = await drover.run(["plan", "-f", changed]);
  assert.match(plan.stdout, /~ change {2}Service test\/web/);
  assert.match(plan.stdout, /spec\.configuration\.environment\.MESSAGE: "v1" → "v2"/);
  assert.equal((await drover.run(["apply", "-f", changed, "--yes", "-m", "say v2"])).code, 0);
  await waitFor("v2 answering", async () => (await answer(port))?.message === "v2");
  const history = await drover.run(["history", "web"]);
  assert.match(history.stdout, /3\s+-\s+\w{12}\s+\w+\s+.*say v2/);

  assert.equal((await drover.run(["delete", "web"])).code, 0);
  await waitFor("the service to be gone", async () => (await drover.json<ServiceSummary[]>(["get"])).length === 0);
  const gone = await drover.run(["describe", "web"]);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /no service "web"/);
});

test("a reference to a config map that does not exist yet is a warning: the service waits for it, then starts with it", async () => {
  const drover = await Drover.started();
  drovers.push(drover);
  const port = await freePort();
  const service = helloService("waits", port, { extra: "    config_maps: [settings]\n" });
  const applied = await drover.run(["apply", "-y", "-f", drover.write("waits.yaml", service)]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stderr, /waits\.yaml:\d+:\d+ warning: spec\.configuration\.config_maps\[0\]: no config map "settings" in namespace "test"; waits waits until it exists/);
  const waiting = (await drover.json<ServiceSummary[]>(["get"]))[0]!;
  assert.equal(waiting.status, "waiting");
  assert.deepEqual(waiting.waitingFor, ["config map settings"]);
  assert.equal((await drover.replicasOf("test/waits")).length, 0);
  const configMap = "apiVersion: drover/v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: test}\ndata: {COLOUR: green}\n";
  assert.equal((await drover.run(["apply", "-y", "-f", drover.write("settings.yaml", configMap)])).code, 0);
  await waitFor("the service to start once its config map exists", async () => (await answer(port))?.replica);
  const colour = (await (await fetch(`http://127.0.0.1:${port}/env/COLOUR`)).json()) as { value: string };
  assert.equal(colour.value, "green");
});
