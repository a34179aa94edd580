import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { detectCgroups } from "../src/agent/drivers/process/cgroup.js";
import type { RevisionRecord, ServiceSummary } from "../src/contract/index.js";
import { Drover, freePort, helloService, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover.cleanup());

const ps = (service: string) => drover.replicasOf(service);
const events = (service: string) => drover.eventsOf(service);

/** A local webhook receiver that records the JSON bodies POSTed to it. */
async function webhookReceiver(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; close(): void }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      bodies.push(JSON.parse(text));
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, close: () => server.close() };
}

const memoryLimits = detectCgroups().controllers.includes("memory");

test("a replica over its memory limit is reported OOM-killed, and an oom_killed alert reaches its webhook", { skip: memoryLimits ? false : "no writable memory cgroup on this machine: OOM kills cannot be told apart" }, async () => {
  const hook = await webhookReceiver();
  try {
    const extra = [
      "  resources: {limits: {memory: 48Mi}}",
      "  restart: {policy: never}",
      "  healing:",
      `    - {trigger: oom_killed, action: alert, max_attempts: 1, webhook: "${hook.url}"}`,
      "",
    ].join("\n");
    const file = drover.write("oom.yaml", helloService("hog", await freePort(), { env: { ALLOC_MB: "200" }, extra }));
    assert.equal((await drover.run(["apply", "-f", file, "--yes"])).code, 0);
    const replica = await waitFor("the replica to be killed", async () => {
      const [r] = await ps("hog");
      return r?.lastExit ? r : undefined;
    });
    assert.equal(replica.lastExit!.oomKilled, true);
    assert.equal(replica.lastExit!.signal, "SIGKILL");
    assert.match((await drover.run(["ps", "hog"])).stdout, /SIGKILL \(OOM\)/);
    assert.match((await drover.run(["describe", "hog"])).stdout, /last exit: SIGKILL \(OOM\), killed by the OOM killer/);
    const alert = (await events("hog")).find((e) => e.type === "HealingAlert")!;
    assert.match(alert.message, /oom killed: OOM-killed \(SIGKILL\) \(alert 1 of 1\)/);
    const body = await waitFor("the webhook call", () => hook.bodies[0]);
    assert.equal(body.trigger, "oom_killed");
    assert.equal(body.service, "test/hog");
    assert.equal(body.replica, replica.id);
  } finally {
    hook.close();
  }
});

test("recreate: a replica failing liveness is replaced by a fresh one on a new port; when attempts are used up it is failed", async () => {
  const port = await freePort();
  const extra = [
    "  health_checks:",
    "    liveness_probe: {http_get: {path: /health, port: http}, period: 200ms, failure_threshold: 1}",
    "  healing:",
    "    - {trigger: liveness_failure, action: recreate, max_attempts: 1}",
    "",
  ].join("\n");
  const file = drover.write("recreate.yaml", helloService("flaky", port, { env: { FAIL_HEALTH_AFTER: "0.6" }, extra, grace: "1s" }));
  assert.equal((await drover.run(["apply", "-f", file, "--yes"])).code, 0);
  const failed = await waitFor("the recreated replica to be failed", async () => {
    const [r] = await ps("flaky");
    return r?.state === "failed" ? r : undefined;
  }, 20_000);
  const started = (await events("flaky")).filter((e) => e.type === "ReplicaStarted");
  assert.equal(started.length, 2);
  const first = { id: started[0]!.replica!, port: /http=(\d+)/.exec(started[0]!.message)![1] };
  assert.equal(started[1]!.replica, failed.id);
  assert.notEqual(first.id, failed.id);
  assert.notEqual(String(failed.ports.http), first.port, "a fresh replica gets a new port");
  assert.equal(failed.healing.attempts["0"], 1, "the attempts carry over to the recreated replica");
  const list = await events("flaky");
  const recreated = list.find((e) => e.type === "ReplicaRecreated")!;
  assert.match(recreated.message, new RegExp(`liveness probe failed once \\(GET http://127\\.0\\.0\\.1:${first.port}/health: [^)]+\\); healing: recreate \\(attempt 1 of 1\\); ${first.id} replaced by ${failed.id}`));
  assert.match(list.find((e) => e.type === "ReplicaFailed")!.message, /liveness failure and every healing attempt is used up \(1 recreate\)/);
});

test("rollback: a new revision that crash-loops is rolled back to the previous one; with no previous revision, a clear event", async () => {
  const port = await freePort();
  const extra = "  restart: {backoff: {initial: 50ms}}\n  healing:\n    - {trigger: crash_loop, action: rollback, max_attempts: 1}\n";
  const good = drover.write("good.yaml", helloService("api", port, { env: { MESSAGE: "good" }, extra }));
  assert.equal((await drover.run(["up", "-f", good])).code, 0);
  const bad = drover.write("bad.yaml", helloService("api", port, { env: { MESSAGE: "bad", CRASH_AFTER: "0.05" }, extra }));
  assert.equal((await drover.run(["apply", "-f", bad, "--yes"])).code, 0);
  const rolledBack = await waitFor("the rollback revision to be ready", async () => {
    const [s] = await drover.json<ServiceSummary[]>(["get", "api"]);
    return s && s.revision === 3 && s.status === "ready" ? s : undefined;
  }, 20_000);
  assert.equal(rolledBack.ready, 1);
  const answer = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { message: string; revision: string };
  assert.deepEqual([answer.message, answer.revision], ["good", "3"]);
  const history = await drover.json<RevisionRecord[]>(["history", "api"]);
  assert.match(history.find((r) => r.number === 3)!.message, /rollback to revision 1: crash loop of api-\w+/);
  assert.match((await events("api")).find((e) => e.type === "HealingRollback")!.message, /rolling back from revision 2 to 1 as revision 3/);

  const lone = drover.write("lone.yaml", helloService("lone", await freePort(), { env: { CRASH_AFTER: "0.05" }, extra }));
  assert.equal((await drover.run(["apply", "-f", lone, "--yes"])).code, 0);
  const impossible = await waitFor("the rollback to be refused", async () => (await events("lone")).find((e) => e.type === "RollbackImpossible"));
  assert.match(impossible.message, /no previous revision to roll back to/);
  await waitFor("the replica to be failed when the rule is used up", async () => (await ps("lone"))[0]?.state === "failed", 20_000);
});

test("readiness_timeout: a replica not ready within its budget fires the trigger; the startup probe gates the others", async () => {
  const port = await freePort();
  const extra = [
    "  health_checks:",
    "    startup_probe: {tcp_socket: {port: http}, period: 100ms, failure_threshold: 20}",
    "    liveness_probe: {http_get: {path: /health, port: http}, period: 100ms, failure_threshold: 1}",
    "    readiness_probe: {http_get: {path: /ready, port: http}, period: 100ms, failure_threshold: 5}",
    "  healing:",
    "    - {trigger: readiness_timeout, action: restart, max_attempts: 2}",
    "",
  ].join("\n");
  // Listens after 0.5s (the startup probe holds liveness back until then), but is never ready.
  const file = drover.write("slow.yaml", helloService("sleepy", port, { env: { START_DELAY: "0.5", NOT_READY_AFTER: "0" }, extra, grace: "1s" }));
  assert.equal((await drover.run(["apply", "-f", file, "--yes"])).code, 0);
  const failed = await waitFor("the replica to be failed after two restarts", async () => {
    const [r] = await ps("sleepy");
    return r?.state === "failed" ? r : undefined;
  }, 40_000);
  assert.equal(failed.restarts, 2);
  const list = await events("sleepy");
  const timeouts = list.filter((e) => e.type === "ReplicaNotReady");
  assert.equal(timeouts.length, 3);
  // Budget: startup 20 × 100ms + 1s timeout, readiness 5 × 100ms + 1s timeout = 4.5s.
  assert.match(timeouts[0]!.message, /not ready [45]s after it started \(budget 5s\); healing: restart \(attempt 1 of 2\)/);
  assert.ok(!list.some((e) => e.type === "ReplicaUnhealthy"), `liveness never failed: it waited for the startup probe\n${list.map((e) => `${e.type} ${e.message}`).join("\n")}`);
});
