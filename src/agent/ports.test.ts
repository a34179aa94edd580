import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { PortAllocator, parsePortRange } from "./ports.js";

// Ports below the kernel's ephemeral range (32768+), so client connections of other tests running
// at the same time cannot occupy them.
test("concurrent allocations never hand out the same port, and skip ports in use", async () => {
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(15005, resolve));
  try {
    const allocator = new PortAllocator({ from: 15000, to: 15039 }, () => [15010]);
    const all = (await Promise.all(Array.from({ length: 9 }, () => allocator.allocate(2)))).flat();
    assert.equal(new Set(all).size, 18, "18 distinct ports");
    assert.ok(!all.includes(15005), "a port another program listens on is skipped");
    assert.ok(!all.includes(15010), "a port a replica holds is skipped");
    allocator.settle(all);
    const full = new PortAllocator({ from: 15005, to: 15006 }, () => [15006]);
    await assert.rejects(full.allocate(1), /no free port left in 15005-15006/);
  } finally {
    squatter.close();
  }
});

test("a preferred port is kept when free", async () => {
  const allocator = new PortAllocator({ from: 15100, to: 15199 }, () => []);
  assert.deepEqual(await allocator.allocate(1, [15150]), [15150]);
});

test("port ranges", () => {
  assert.deepEqual(parsePortRange(undefined), { from: 20000, to: 29999 });
  assert.deepEqual(parsePortRange("30000-30100"), { from: 30000, to: 30100 });
  assert.throws(() => parsePortRange("80-90"), /within 1024-65535/);
  assert.throws(() => parsePortRange("lots"), /expected FROM-TO/);
});
