import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Drover, freePort, helloService, waitFor } from "./harness.js";
import type { ReplicaView, ServiceSummary } from "../src/contract/index.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover.cleanup());

const ps = (service: string) => drover.replicasOf(service);
const events = (service: string) => drover.eventsOf(service);
const post = (port: number, route: string) => fetch(`http://127.0.0.1:${port}${route}`, { method: "POST" }).then((r) => r.json());

test("a hung replica (alive, liveness failing) is restarted after failure_threshold × period, within one period", async () => {
  const port = await freePort();
  const extra = "  health_checks:\n    liveness_probe: {http_get: {path: /health, port: http}, period: 1s, timeout: 300ms, failure_threshold: 3}\n";
  const file = drover.write("hang.yaml", helloService("hangs", port, { extra, grace: "500ms" }));
  assert.equal((await drover.run(["up", "-f", file])).code, 0);
  const [before] = await ps("hangs");
  // Let the probe pass at least once, then wedge the replica's event loop.
  await waitFor("the liveness probe to pass", async () => (await drover.json<{ replicas: ReplicaView[] }>(["describe", "hangs"])).replicas[0]?.probes[0]?.state === "passing");
  const hungAt = Date.now();
  await post(before!.ports.http!, "/hang");
  const restarted = await waitFor("a new process, ready", async () => {
    const [r] = await ps("hangs");
    return r && r.pid !== before!.pid && r.state === "ready" ? r : undefined;
  }, 15_000, 20);

  const list = await events("hangs");
  const unhealthy = list.find((e) => e.type === "ReplicaUnhealthy" && e.time >= hungAt)!;
  assert.ok(unhealthy, "the liveness failure is an event");
  assert.match(unhealthy.message, /liveness probe failed 3 times in a row \(GET http:\/\/127\.0\.0\.1:\d+\/health: no answer within 300ms\)/);
  const detected = unhealthy.time - hungAt;
  const started = list.find((e) => e.type === "ReplicaStarted" && e.time >= hungAt)!.time - hungAt;
  const readyAgain = list.find((e) => e.type === "ReplicaReady" && e.time >= hungAt)!.time - hungAt;
  process.stdout.write(`# hang → unhealthy ${detected}ms, → restarted ${started}ms, → ready again ${readyAgain}ms\n`);
  // Three failures one period apart, the first within a period of the hang: (3 - 1) × 1s + timeout ≤ detection ≤ 3 × 1s + timeout.
  assert.ok(detected >= 2_000 && detected <= 3_000 + 300 + 200, `detected after ${detected}ms`);
  // Then the stop (SIGTERM is not handled by a wedged loop: SIGKILL after the 500ms grace) and a fresh start, within a period.
  assert.ok(started <= 3_000 + 1_000, `restarted after ${started}ms`);
  assert.equal(restarted.restarts, 1);
  assert.equal(restarted.lastExit?.signal, "SIGKILL");
  assert.equal(restarted.reason !== "", true);
  assert.ok(list.some((e) => e.type === "ProbeFailed" && e.reason === "LivenessFailing"), "the probe's change of verdict is an event");

});

test("a crash loop: backoff grows as configured, the healing rule acts, and after max_attempts the replica is failed and left alone", async () => {
  const port = await freePort();
  const extra = [
    "  restart: {policy: always, backoff: {initial: 100ms, max: 5s, multiplier: 2}}",
    "  healing:",
    "    - {trigger: crash_loop, action: restart, max_attempts: 3, backoff_multiplier: 3}",
    "",
  ].join("\n");
  const file = drover.write("loop.yaml", helloService("loops", port, { env: { CRASH_AFTER: "0.05", EXIT_CODE: "4" }, extra }));
  assert.equal((await drover.run(["apply", "-f", file, "--yes"])).code, 0);
  const failed = await waitFor("the replica to be failed", async () => {
    const [r] = await ps("loops");
    return r?.state === "failed" ? r : undefined;
  }, 30_000);
  assert.equal(failed.reason, "HealingGaveUp");
  // Exits 1 and 2 restart by the policy; 3, 4, 5 are crash-loop restarts by the rule; exit 6 finds the attempts used up.
  assert.equal(failed.restarts, 5);
  const list = await events("loops");
  const exits = list.filter((e) => e.type === "ReplicaExited" || e.type === "ReplicaCrashLoop");
  const starts = list.filter((e) => e.type === "ReplicaStarted");
  const delays = exits.slice(0, 5).map((exit) => starts.find((s) => s.id > exit.id)!.time - exit.time);
  // Policy: 0, 100, 200, 400, 800ms; the rule (100ms × 3^(k-1): 100, 300, 900) never shortens it: max(200,100), max(400,300), max(800,900).
  const expected = [0, 100, 200, 400, 900];
  expected.forEach((ms, i) => assert.ok(delays[i]! >= ms - 20 && delays[i]! < ms + 800, `restart ${i + 1} after ~${ms}ms: ${delays}`));
  assert.match(exits.filter((e) => e.type === "ReplicaCrashLoop").map((e) => e.message).join("\n"), /healing: restart \(attempt 3 of 3\)/);
  const gaveUp = list.find((e) => e.type === "ReplicaFailed")!;
  assert.match(gaveUp.message, /crash loop and every healing attempt is used up \(3 restarts\); left stopped/);
  const [service] = await drover.json<ServiceSummary[]>(["get", "loops"]);
  assert.equal(service!.status, "failed");
  // Left alone: failed with no start scheduled (the planner never starts such a replica again).
  assert.deepEqual([failed.state, failed.nextStartAt], ["failed", null]);
  process.stdout.write(`# crash loop restart delays ${delays.join(", ")}ms\n`);
});

test("a readiness flap: ps and events show unready and ready again; the router sends traffic only to ready replicas", async () => {
  const port = await freePort();
  const extra = "  health_checks:\n    readiness_probe: {http_get: {path: /ready, port: http}, period: 200ms, failure_threshold: 1, success_threshold: 2}\n";
  const file = drover.write("flap.yaml", helloService("flaps", port, { replicas: 2, extra }));
  assert.equal((await drover.run(["up", "-f", file])).code, 0);
  const [a, b] = await ps("flaps");
  await post(a!.ports.http!, "/ready/off");
  await waitFor("the replica to be unready", async () => (await ps("flaps")).find((r) => r.id === a!.id)?.state === "unready");
  const table = (await drover.run(["ps", "flaps"])).stdout;
  assert.match(table, new RegExp(`${a!.id}\\s+test/flaps\\s+local\\s+1\\s+unready`));
  assert.match(table, new RegExp(`${b!.id}\\s+test/flaps\\s+local\\s+1\\s+ready`));
  // Only the ready replica answers on the service port now.
  const answers = new Set<string>();
  for (let i = 0; i < 10; i++) answers.add(((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { replica: string }).replica);
  assert.deepEqual([...answers], [b!.id]);
  await post(a!.ports.http!, "/ready/on");
  await waitFor("the replica to be ready again", async () => (await ps("flaps")).find((r) => r.id === a!.id)?.state === "ready");
  const list = (await events("flaps")).filter((e) => e.replica === a!.id).map((e) => `${e.type}:${e.reason}`);
  const from = list.indexOf("ReplicaUnready:NotReady");
  assert.ok(from > 0, list.join(" "));
  assert.deepEqual(list.slice(from - 1, from + 3), ["ProbeFailed:ReadinessFailing", "ReplicaUnready:NotReady", "ProbeSucceeded:ReadinessPassing", "ReplicaReady:Ready"]);
  // One event per change of verdict, not one per probe run (the probe ran every 200ms throughout).
  assert.deepEqual(list.filter((e) => e.startsWith("Probe")), ["ProbeSucceeded:ReadinessPassing", "ProbeFailed:ReadinessFailing", "ProbeSucceeded:ReadinessPassing"]);
});

test("exec probes pass and fail as their command does, run in the replica's environment, and are killed at their timeout", async () => {
  const marker = path.join(drover.home, "ready-marker");
  const port = await freePort();
  const extra = [
    "  health_checks:",
    '    readiness_probe: {exec: {command: [sh, -c, "test -f \\"$MARKER\\""]}, period: 200ms, failure_threshold: 1}',
    "    liveness_probe: {exec: {command: [sleep, \"5\"]}, period: 1s, timeout: 300ms, failure_threshold: 100}",
    "",
  ].join("\n");
  const file = drover.write("exec.yaml", helloService("execs", port, { env: { MARKER: marker }, extra }));
  assert.equal((await drover.run(["apply", "-f", file, "--yes"])).code, 0);
  const [replica] = await waitFor("the replica to run", async () => ((await ps("execs"))[0]?.state === "running" ? ps("execs") : undefined));
  // The readiness command has run and failed: the replica stays running, not ready.
  await waitFor("a failed readiness run", async () => {
    const view = (await drover.json<{ replicas: ReplicaView[] }>(["describe", "execs"])).replicas[0];
    return view?.probes.find((p) => p.kind === "readiness")?.last?.ok === false;
  });
  assert.equal((await ps("execs"))[0]!.state, "running", "not ready while the marker is missing");
  fs.writeFileSync(marker, "");
  await waitFor("ready once the command passes", async () => (await ps("execs"))[0]?.state === "ready");
  fs.rmSync(marker);
  await waitFor("unready once it fails", async () => (await ps("execs"))[0]?.state === "unready");
  const view = await waitFor("the liveness result", async () => {
    const r = (await drover.json<{ replicas: ReplicaView[] }>(["describe", "execs"])).replicas[0];
    return r?.probes.find((p) => p.kind === "liveness")?.last ? r : undefined;
  });
  const liveness = view.probes.find((p) => p.kind === "liveness")!;
  assert.equal(liveness.last!.ok, false);
  assert.match(liveness.last!.message, /killed after the 300ms timeout/);
  assert.ok(liveness.last!.latencyMs < 1_000, `the timeout ends the probe: ${liveness.last!.latencyMs}ms`);
  const readiness = view.probes.find((p) => p.kind === "readiness")!;
  assert.equal(readiness.state, "failing");
  assert.equal(readiness.last!.message, "exit code 1");
  const text = (await drover.run(["describe", "execs"])).stdout;
  assert.match(text, /readiness\s+failing\s+exec sh -c test -f "\$MARKER": exit code 1, [\d.]+ms/);
  assert.equal(replica!.restarts, 0);
});

test("after kill -9 of drover, an adopted replica stays ready and its probes (exec included) carry on", async () => {
  const marker = path.join(drover.home, "adopted-marker");
  fs.writeFileSync(marker, "");
  const port = await freePort();
  const extra = [
    "  health_checks:",
    '    readiness_probe: {exec: {command: [sh, -c, "test -f \\"$MARKER\\""]}, period: 200ms, failure_threshold: 1}',
    "    liveness_probe: {http_get: {path: /health, port: http}, period: 200ms, failure_threshold: 2}",
    "",
  ].join("\n");
  const file = drover.write("adopt.yaml", helloService("adoptee", port, { env: { MARKER: marker }, extra }));
  assert.equal((await drover.run(["up", "-f", file])).code, 0);
  const [before] = await ps("adoptee");
  await drover.killServer();
  const restartedAt = Date.now();
  await drover.startServer();
  const list = await waitFor("the adoption", async () => {
    const all = await events("adoptee");
    return all.some((e) => e.type === "ReplicaAdopted" && e.time >= restartedAt) ? all : undefined;
  });
  const [after] = await ps("adoptee");
  // Compared with the count before the kill: a liveness restart during `up` on a loaded machine is not what this test is about.
  assert.deepEqual([after!.pid, after!.state, after!.restarts], [before!.pid, "ready", before!.restarts]);
  assert.ok(!list.some((e) => e.time >= restartedAt && /ReplicaUnready|ReplicaStarted/.test(e.type)), "no flap, no restart");
  // The probes run again: the exec probe reads the adopted process's environment.
  fs.rmSync(marker);
  await waitFor("unready once the exec probe fails", async () => (await ps("adoptee"))[0]?.state === "unready");
  await post(before!.ports.http!, "/hang");
  await waitFor("a liveness restart of the adopted replica", async () => {
    const [r] = await ps("adoptee");
    return r && r.pid !== before!.pid && r.restarts === before!.restarts + 1;
    // The hung replica burns a core until its grace period ends: slow on a loaded machine, not wrong.
  }, 30_000);
});
