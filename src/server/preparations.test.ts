import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../../test/harness.js";
import type { EventBus } from "./event-bus.js";
import { Preparations } from "./preparations.js";
import type { NodeAgent } from "../contract/index.js";

/** An agent whose image preparation answers as told; only prepare() is used. */
function setup() {
  const calls: string[] = [];
  const emitted: string[] = [];
  let answer: { reason: string; message: string } | null = { reason: "image_unavailable", message: "image x:1 is not available: no such host" };
  let now = 1_000_000;
  let wakes = 0;
  const agent = { prepare: async (_runtime: string, image: { image: string }) => (calls.push(image.image), answer) } as unknown as NodeAgent;
  const events = { emit: async (e: { type: string; message: string }) => emitted.push(`${e.type}: ${e.message}`) } as unknown as EventBus;
  const preparations = new Preparations(agent, events, () => wakes++, () => now);
  return { preparations, calls, emitted, setAnswer: (a: typeof answer) => (answer = a), advance: (ms: number) => (now += ms), wakes: () => wakes };
}

const image = { image: "x:1", pullPolicy: "IfNotPresent" as const };

test("a failed preparation is a problem of its revision, tried again after 10 s doubling, with one event per distinct problem", async () => {
  const t = setup();
  assert.equal(t.preparations.check("s", 1, "docker", undefined), null, "a process revision needs nothing");
  assert.equal(t.preparations.check("s", 1, "docker", image)!.state, "preparing");
  await waitFor("the first answer", () => t.preparations.check("s", 1, "docker", image)!.state === "failed");
  assert.deepEqual(t.preparations.problem("s", 1), { reason: "image_unavailable", message: "image x:1 is not available: no such host" });
  assert.equal(t.preparations.check("s", 1, "docker", image)!.retryAt, 1_000_000 + 10_000);
  assert.equal(t.calls.length, 1, "no retry before its time");
  t.advance(10_000);
  assert.equal(t.preparations.check("s", 1, "docker", image)!.state, "preparing");
  await waitFor("the second answer", () => t.preparations.check("s", 1, "docker", image)!.state === "failed");
  assert.equal(t.preparations.check("s", 1, "docker", image)!.retryAt, 1_010_000 + 20_000, "the wait doubles");
  assert.equal(t.emitted.length, 1, "the same problem again is not news");
  assert.ok(t.preparations.problem("s", 1), "still a problem while being tried again");

  t.setAnswer(null);
  t.advance(20_000);
  t.preparations.check("s", 1, "docker", image);
  await waitFor("success", () => t.preparations.check("s", 1, "docker", image)!.state === "ready");
  assert.equal(t.preparations.problem("s", 1), null);
  assert.match(t.emitted[1]!, /^ImageAvailable: image x:1 is available now/);
  assert.ok(t.wakes() >= 3, "each answer wakes the reconciler");
});

test("each revision is prepared on its own; older ones are forgotten", async () => {
  const t = setup();
  t.setAnswer(null);
  t.preparations.check("s", 1, "docker", image);
  await waitFor("revision 1 ready", () => t.preparations.check("s", 1, "docker", image)!.state === "ready");
  t.preparations.keepOnly("s", 2);
  t.preparations.check("s", 2, "docker", image);
  t.preparations.check("s", 1, "docker", image);
  assert.equal(t.calls.length, 3, "revision 2 prepared, and revision 1 again once forgotten");
});
