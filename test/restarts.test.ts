import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { EventRecord, ReplicaRecord, ServiceSummary } from "../src/contract/index.js";
import { Drover, freePort, helloService, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover.cleanup());

test("a crashing replica: immediate first restart, growing backoff up to the maximum, crash-loop state", async () => {
  const port = await freePort();
  const extra = "  restart: {policy: always, backoff: {initial: 200ms, max: 800ms, multiplier: 2}}\n";
  const file = drover.write("crash.yaml", helloService("crasher", port, { env: { START_DELAY: "5", CRASH_AFTER: "0.05", EXIT_CODE: "3" }, extra }));
  const up = await drover.run(["up", "-f", file, "--timeout", "30s"]);
  assert.equal(up.code, 1, "up reports the failure");
  assert.match(up.stderr, /test\/crasher is crash_loop: crasher-\w+: exited with code 3/);

  await waitFor("six restarts", async () => (await drover.json<ReplicaRecord[]>(["ps", "crasher"]))[0]!.restarts >= 6, 30_000);
  const [replica] = await drover.json<ReplicaRecord[]>(["ps", "crasher"]);
  assert.equal(replica!.lastExit?.code, 3);
  const [service] = await drover.json<ServiceSummary[]>(["get", "crasher"]);
  assert.equal(service!.status, "crash_loop");

  const events = (await drover.json<EventRecord[]>(["events", "-s", "crasher", "-n", "1000"])).filter((e) => /ReplicaExited|ReplicaCrashLoop|ReplicaStarted/.test(e.type));
  const delays: number[] = [];
  for (let i = 0; i < events.length - 1; i++) {
    if (events[i]!.type !== "ReplicaStarted" && events[i + 1]!.type === "ReplicaStarted") delays.push(events[i + 1]!.time - events[i]!.time);
  }
  // Expected: 0, 200, 400, 800, 800 ... (the first restart is immediate).
  assert.ok(delays.length >= 5, `delays ${delays}`);
  // Lower bounds are the backoff being honoured; upper bounds leave room for a loaded machine.
  assert.ok(delays[0]! < 500, `first restart immediate: ${delays}`);
  for (const [i, expected] of [[1, 200], [2, 400], [3, 800], [4, 800]] as const) {
    assert.ok(delays[i]! >= expected - 20 && delays[i]! < expected + 1000, `restart ${i + 1} after ~${expected}ms: ${delays}`);
  }
  assert.ok(events.some((e) => e.type === "ReplicaCrashLoop" && e.reason === "CrashLoopBackOff"));
  // The replica spends each cycle mostly waiting out its backoff; describe shows that wait.
  await waitFor("describe to show the backoff", async () => /crash_loop \(CrashLoopBackOff\) on node local, restarts \d+, failures in a row \d+\n\s+last exit: code 3, \d+s ago\n\s+backoff: next restart in \d/.test((await drover.run(["describe", "crasher"])).stdout), 10_000);
});

test("restart policies: on_failure leaves a clean exit down, never leaves a crash down", async () => {
  const clean = drover.write("clean.yaml", helloService("job", await freePort(), { env: { CRASH_AFTER: "0.2", EXIT_CODE: "0" }, extra: "  restart: {policy: on_failure}\n" }));
  const crash = drover.write("never.yaml", helloService("once", await freePort(), { env: { CRASH_AFTER: "0.2", EXIT_CODE: "1" }, extra: "  restart: {policy: never}\n" }));
  assert.equal((await drover.run(["apply", "-f", clean, "-f", crash, "--yes"])).code, 0);
  const job = await waitFor("the job to complete", async () => {
    const [r] = await drover.json<ReplicaRecord[]>(["ps", "job"]);
    return r?.state === "exited" && r.nextStartAt === null ? r : undefined;
  });
  assert.equal(job.lastExit?.code, 0);
  const once = await waitFor("the crash to stay down", async () => {
    const [r] = await drover.json<ReplicaRecord[]>(["ps", "once"]);
    return r?.state === "failed" ? r : undefined;
  });
  assert.equal(once.restarts, 0);
  const [status] = await drover.json<ServiceSummary[]>(["get", "once"]);
  assert.equal(status!.status, "failed");
});

test("a command that cannot start is reported with its reason", async () => {
  const file = drover.write("typo.yaml", helloService("typo", await freePort()).replace("command: [node, server.js]", "command: [nodee, server.js]"));
  const up = await drover.run(["up", "-f", file, "--timeout", "20s"]);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /command not found: nodee/);
  const logs = await drover.run(["logs", "typo"]);
  assert.match(logs.stdout, /drover: command not found: nodee/);
});

test("a slow stop does not hold up restarts of other services", async () => {
  const slow = drover.write("slow.yaml", helloService("slow", await freePort(), { replicas: 2, env: { IGNORE_SIGTERM: "1" } }).replace("grace_period: 3s", "grace_period: 60s"));
  const quick = drover.write("quick.yaml", helloService("quick", await freePort()));
  assert.equal((await drover.run(["up", "-f", slow, "-f", quick, "--timeout", "30s"])).code, 0);
  assert.equal((await drover.run(["scale", "slow", "1"])).code, 0);
  const stopping = await waitFor("a replica of slow to be terminating", async () => (await drover.json<ReplicaRecord[]>(["ps", "slow"])).find((r) => r.state === "terminating"));

  const [victim] = await drover.json<ReplicaRecord[]>(["ps", "quick"]);
  process.kill(victim!.pid!, "SIGKILL");
  const killedAt = Date.now();
  await waitFor("quick to be ready again", async () => {
    const [r] = await drover.json<ReplicaRecord[]>(["ps", "quick"]);
    return r?.state === "ready" && r.pid !== victim!.pid;
  }, 10_000);
  assert.ok(Date.now() - killedAt < 5000, `restarted while another stop waits out its 60s grace period (${Date.now() - killedAt}ms)`);
  assert.equal((await drover.json<ReplicaRecord[]>(["ps", "slow"])).find((r) => r.id === stopping.id)?.state, "terminating", "the slow stop is still under way");

  process.kill(stopping.pid!, "SIGKILL");
  await waitFor("the killed terminating replica to be removed", async () => (await drover.json<ReplicaRecord[]>(["ps", "slow"])).length === 1);

  // The last replica ignores SIGTERM for 60s: delete the service and end it here rather than in cleanup.
  const [last] = await drover.json<ReplicaRecord[]>(["ps", "slow"]);
  assert.equal((await drover.run(["delete", "slow"])).code, 0);
  await waitFor("the last replica to be terminating", async () => (await drover.json<ReplicaRecord[]>(["ps", "slow"]))[0]?.state === "terminating");
  process.kill(last!.pid!, "SIGKILL");
  await waitFor("slow to be gone", async () => !(await drover.json<{ name: string }[]>(["get"])).some((s) => s.name === "test/slow"));
});
