import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LaunchError, type LaunchSpec } from "../driver.js";
import { detectCgroups } from "./cgroup.js";
import { ProcessDriver } from "./process-driver.js";
import { isSameProcess, readStat } from "./proc.js";

const hello = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../../examples/hello");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-driver-"));
const started: number[] = [];
const cleanupDriver = new ProcessDriver();
const replicaIds: string[] = [];
// The driver unrefs its children and timers (they must not keep drover alive), so while a test
// awaits an exit nothing else would hold the event loop open.
const keepAlive = setInterval(() => undefined, 1000);
after(async () => {
  clearInterval(keepAlive);
  for (const pid of started) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // ended already
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  // Each test's replica had its own cgroup; give them back once their processes are gone.
  for (const replicaId of replicaIds) await cleanupDriver.release({ runtime: "process", replicaId });
});

let count = 0;
function spec(patch: Partial<LaunchSpec> = {}): LaunchSpec {
  count += 1;
  replicaIds.push(`driver-test-${process.pid}-${count}`);
  return {
    replicaId: `driver-test-${process.pid}-${count}`,
    command: ["node", "server.js"],
    workingDir: hello,
    env: { PATH: process.env.PATH!, PORT: "0", MESSAGE: "driver" },
    logFile: path.join(dir, `r${count}.log`),
    limits: {},
    hostPorts: {},
    publishHost: "127.0.0.1",
    files: [],
    volumes: [],
    ...patch,
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("starts a detached process group with its environment and log, and stops it gracefully", async () => {
  const driver = new ProcessDriver();
  const s = spec();
  const running = await driver.start(s);
  started.push(running.pid!);
  const stat = readStat(running.pid!)!;
  assert.equal(stat.pgid, running.pid, "own process group");
  assert.equal(stat.sid, running.pid, "own session, so a dying drover sends it no hangup");
  await until("the log to show the listener", () => fs.readFileSync(s.logFile, "utf8").includes("listening on"));
  const usage = await driver.usage(running.handle);
  assert.ok(usage && usage.memoryBytes > 0, "memory is accounted");
  await driver.stop(running.handle, "SIGTERM", 5000);
  const exit = await running.exited;
  assert.equal(exit.code, 0, "SIGTERM let it close cleanly");
  assert.match(fs.readFileSync(s.logFile, "utf8"), /SIGTERM: closing/);
});

test("a process that ignores the stop signal is killed after the grace period", async () => {
  const driver = new ProcessDriver();
  const s = spec({ env: { PATH: process.env.PATH!, PORT: "0", IGNORE_SIGTERM: "1" } });
  const running = await driver.start(s);
  started.push(running.pid!);
  await until("the listener", () => fs.readFileSync(s.logFile, "utf8").includes("listening on"));
  const begin = Date.now();
  await driver.stop(running.handle, "SIGTERM", 400);
  const exit = await running.exited;
  assert.equal(exit.signal, "SIGKILL");
  assert.ok(Date.now() - begin >= 400, "the grace period was given");
});

test("a stop reaches every process of the group, and an exit takes the leftovers along", async () => {
  const driver = new ProcessDriver();
  const s = spec({ command: ["sh", "-c", "sleep 300 & sleep 300 & echo started; wait"] });
  const running = await driver.start(s);
  started.push(running.pid!);
  await until("the children", () => fs.readFileSync(s.logFile, "utf8").includes("started"));
  const children = fs.readdirSync("/proc").map(Number).filter((pid) => readStat(pid)?.pgid === running.pid && pid !== running.pid);
  assert.equal(children.length, 2);
  await driver.stop(running.handle, "SIGTERM", 2000);
  await running.exited;
  await until("the children to be gone", () => children.every((pid) => !readStat(pid) || readStat(pid)!.state === "Z"));
});

test("launch failures are clear errors", async () => {
  const driver = new ProcessDriver();
  await assert.rejects(driver.start(spec({ command: ["no-such-program-xyz"] })), (e: LaunchError) => e instanceof LaunchError && /command not found: no-such-program-xyz/.test(e.message));
  await assert.rejects(driver.start(spec({ workingDir: "/no/such/dir" })), /working_dir \/no\/such\/dir does not exist/);
});

test("adoption: a new driver finds the process again, and never adopts a recycled pid", async () => {
  const first = new ProcessDriver();
  const running = await first.start(spec());
  started.push(running.pid!);
  const second = new ProcessDriver();
  assert.equal(await second.adopt({ ...running.handle, startTime: Number(running.handle.startTime) + 1 }), null, "a different start time is another process");
  const adopted = await second.adopt(running.handle);
  assert.ok(adopted);
  process.kill(running.pid!, "SIGKILL");
  const exit = await adopted.exited;
  assert.equal(exit.unknown, true, "an adopted process's exit status belongs to init");
  assert.equal(isSameProcess(running.pid!, Number(running.handle.startTime)), false);
});

test("cgroup limits are written where the machine allows it", { skip: detectCgroups().mode === "none" ? `no writable cgroups here: ${detectCgroups().detail}` : false }, async () => {
  const driver = new ProcessDriver();
  const s = spec({ limits: { memoryBytes: 256 * 1024 * 1024, cpuMillis: 500 } });
  const running = await driver.start(s);
  started.push(running.pid!);
  const support = driver.cgroups;
  // The wrapper shell joins the cgroup, then execs the workload: wait for the exec to have happened.
  await until("the workload to run", () => fs.readFileSync(s.logFile, "utf8").includes("listening on"));
  const memberOf = fs.readFileSync(`/proc/${running.pid}/cgroup`, "utf8");
  assert.match(memberOf, new RegExp(`drover/${s.replicaId}`), "the process joined its cgroup before exec");
  if (support.mode === "v1") {
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory/drover/${s.replicaId}/memory.limit_in_bytes`, "utf8").trim(), String(256 * 1024 * 1024));
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/cpu/drover/${s.replicaId}/cpu.cfs_quota_us`, "utf8").trim(), "50000");
  } else {
    assert.match(memberOf, /drover/);
  }
  assert.equal((await driver.usage(running.handle))?.source, "cgroup");
  await driver.stop(running.handle, "SIGTERM", 3000);
  await running.exited;
  await driver.release(running.handle);
  if (support.mode === "v1") assert.equal(fs.existsSync(`/sys/fs/cgroup/memory/drover/${s.replicaId}`), false, "released");
});

test("run_as_user and run_as_group: the replica runs with that uid and gid", { skip: process.getuid?.() !== 0 ? "needs root" : false }, async () => {
  const driver = new ProcessDriver();
  const s = spec({ user: { uid: 65534, gid: 65534 } });
  const running = await driver.start(s);
  started.push(running.pid!);
  await until("the listener", () => fs.readFileSync(s.logFile, "utf8").includes("listening on"));
  const status = fs.readFileSync(`/proc/${running.pid}/status`, "utf8");
  assert.match(status, /^Uid:\s+65534\s+65534/m);
  assert.match(status, /^Gid:\s+65534\s+65534/m);
  await driver.stop(running.handle, "SIGTERM", 3000);
  await running.exited;
});
