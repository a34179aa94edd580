import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { detectCgroups } from "./cgroup.js";

/** A folder shaped like a cgroup v1 mount; plain files stand in for the kernel's. */
function fakeV1(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "drover-cgroup-"));
  for (const controller of ["cpu", "cpuacct", "memory", "pids"]) {
    fs.mkdirSync(path.join(root, controller));
    fs.writeFileSync(path.join(root, controller, "cgroup.procs"), "");
  }
  return root;
}

test("v1: joins memory and cpuacct, cpu only for a quota, never pids; writes only what differs from a new cgroup's defaults", async () => {
  const root = fakeV1();
  try {
    const support = detectCgroups(root);
    assert.equal(support.mode, "v1");
    assert.deepEqual(support.controllers, ["cpu", "cpuacct", "memory"]);

    const plain = await support.open("plain", {});
    assert.deepEqual(plain!.procsFiles.map((f) => path.relative(root, f)), ["cpuacct/drover/plain/cgroup.procs", "memory/drover/plain/cgroup.procs"]);
    assert.equal(fs.existsSync(path.join(root, "memory/drover/plain/memory.limit_in_bytes")), false, "nothing written for no limits");

    const limited = await support.open("limited", { memoryBytes: 64 * 1024 * 1024, cpuMillis: 250 });
    assert.equal(limited!.procsFiles.length, 3);
    assert.equal(fs.readFileSync(path.join(root, "memory/drover/limited/memory.limit_in_bytes"), "utf8"), String(64 * 1024 * 1024));
    assert.equal(fs.readFileSync(path.join(root, "cpu/drover/limited/cpu.cfs_quota_us"), "utf8"), "25000");

    await support.open("limited", {});
    assert.equal(fs.readFileSync(path.join(root, "memory/drover/limited/memory.limit_in_bytes"), "utf8"), "-1", "a re-opened cgroup is reset");
    assert.equal(fs.readFileSync(path.join(root, "cpu/drover/limited/cpu.cfs_quota_us"), "utf8"), "-1");

    await support.open("limited", "unchanged");
    assert.equal(fs.readFileSync(path.join(root, "memory/drover/limited/memory.limit_in_bytes"), "utf8"), "-1", "adoption changes nothing");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("no hierarchy: none, with the reason and the consequence spelled out", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "drover-cgroup-"));
  try {
    const support = detectCgroups(root);
    assert.equal(support.mode, "none");
    assert.match(support.detail, /no cgroup hierarchy found .*; CPU and memory limits are not enforced, usage comes from \/proc/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
