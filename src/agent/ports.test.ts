import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { PortAllocator, parsePortRange } from "./ports.js";

test("concurrent allocations never hand out the same port, and skip ports something listens on", async () => {
  const range = { from: 41000, to: 41019 };
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(41005, resolve));
  try {
    const allocator = new PortAllocator(range, () => [41010]);
    const results = await Promise.all(Array.from({ length: 9 }, () => allocator.allocate(2)));
    const all = results.flat();
    assert.equal(new Set(all).size, 18, "18 distinct ports");
    assert.ok(!all.includes(41005), "a port in use by another program is skipped");
    assert.ok(!all.includes(41010), "a port a replica holds is skipped");
    await assert.rejects(allocator.allocate(1), /no free port left in 41000-41019/);
    allocator.settle(all);
  } finally {
    squatter.close();
  }
});

test("a preferred port is kept when free", async () => {
  const allocator = new PortAllocator({ from: 41100, to: 41199 }, () => []);
  assert.deepEqual(await allocator.allocate(1, [41150]), [41150]);
});

test("port ranges", () => {
  assert.deepEqual(parsePortRange(undefined), { from: 20000, to: 29999 });
  assert.deepEqual(parsePortRange("30000-30100"), { from: 30000, to: 30100 });
  assert.throws(() => parsePortRange("80-90"), /within 1024-65535/);
  assert.throws(() => parsePortRange("lots"), /expected FROM-TO/);
});
