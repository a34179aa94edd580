import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_MODEL, modelFromEnv, modelWatts, RaplMeter } from "./energy.js";
import { cpuUtilisation, parseCpu, parseDisks, parseMemory, parseNetwork, readHost } from "./host.js";

test("host figures parse from /proc text", () => {
  const cpu = parseCpu("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 60 0 20 400 20 0 0 0 0 0\ncpu1 40 0 30 400 30 0 0 0 0 0\nintr 1\n");
  assert.deepEqual(cpu.all, { user: 1, nice: 0, system: 0.5, idle: 8, iowait: 0.5, irq: 0, softirq: 0, steal: 0 });
  assert.equal(cpu.cpu1!.system, 0.3);
  assert.deepEqual(parseMemory("MemTotal:       16384 kB\nMemFree: 1 kB\nMemAvailable:    8192 kB\n"), { totalBytes: 16384 * 1024, availableBytes: 8192 * 1024 });
  const disks = parseDisks("   8       0 sda 10 0 200 0 5 0 100 0 0 0 0\n   8       1 sda1 10 0 200 0 5 0 100 0 0 0 0\n   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0\n 259 0 nvme0n1 1 0 4 0 1 0 2 0 0 0 0\n");
  assert.deepEqual(disks, [{ device: "sda", readBytes: 200 * 512, writtenBytes: 100 * 512 }, { device: "nvme0n1", readBytes: 4 * 512, writtenBytes: 2 * 512 }]);
  const net = parseNetwork("Inter-|   Receive\n face |bytes\n    lo: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n  eth0: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n");
  assert.deepEqual(net, [{ interface: "lo", receivedBytes: 1000, transmittedBytes: 2000 }, { interface: "eth0", receivedBytes: 5, transmittedBytes: 7 }]);
});

test("utilisation between two samples; a live read of this machine", () => {
  const before = readHost(os.tmpdir());
  const after = { ...before, cpu: { all: { ...before.cpu.all!, user: before.cpu.all!.user + 3, idle: before.cpu.all!.idle + 1 } } };
  assert.equal(cpuUtilisation(before, after), 0.75);
  assert.equal(cpuUtilisation(undefined, before), null);
  assert.ok(before.memory.totalBytes > 0 && before.cores > 0 && before.filesystem!.sizeBytes > 0);
});

test("the energy model: idle and full power per vCPU plus memory; coefficients from the environment", () => {
  assert.deepEqual(modelWatts(DEFAULT_MODEL, 2, 0, 0), { cpu: 1.48, memory: 0 });
  const full = modelWatts(DEFAULT_MODEL, 2, 1, 10e9);
  assert.equal(full.cpu, 7);
  assert.ok(Math.abs(full.memory - 3.92) < 1e-9);
  assert.deepEqual(modelFromEnv({ DROVER_ENERGY_MAX_WATTS_PER_CPU: "10" }), { ...DEFAULT_MODEL, maxWattsPerCpu: 10 });
});

test("RAPL counters become joules, across a wrap-around", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-rapl-"));
  try {
    fs.writeFileSync(path.join(dir, "max_energy_range_uj"), "1000000");
    fs.writeFileSync(path.join(dir, "energy_uj"), "900000");
    const meter = new RaplMeter([dir]);
    assert.equal(meter.read(), 0);
    fs.writeFileSync(path.join(dir, "energy_uj"), "100000"); // wrapped: 0.1 J to the top, 0.1 J after
    assert.ok(Math.abs(meter.read() - 0.2) < 1e-9);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});
