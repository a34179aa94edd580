import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_HEARTBEATS as S, nodeState, onHeartbeat, type HeartbeatView } from "./node-health.js";

test("node states from heartbeats: each transition and its reason", () => {
  const cases: Array<[string, HeartbeatView, number, string]> = [
    ["never heard from", { state: "initializing", lastBeatAt: null, beatsOnTime: 0 }, 0, "initializing"],
    ["first beats, not enough yet", { state: "initializing", lastBeatAt: 1000, beatsOnTime: 1 }, 1200, "initializing"],
    ["enough beats on time", { state: "initializing", lastBeatAt: 1000, beatsOnTime: 2 }, 1200, "ready"],
    ["ready, beat 2.9 s ago", { state: "ready", lastBeatAt: 1000, beatsOnTime: 9 }, 3900, "ready"],
    ["ready, beat 3 s ago", { state: "ready", lastBeatAt: 1000, beatsOnTime: 9 }, 4000, "not_ready"],
    ["not ready, 9.9 s", { state: "not_ready", lastBeatAt: 1000, beatsOnTime: 9 }, 10_900, "not_ready"],
    ["10 s without a beat", { state: "not_ready", lastBeatAt: 1000, beatsOnTime: 9 }, 11_000, "down"],
    ["down stays down until beats come", { state: "down", lastBeatAt: 1000, beatsOnTime: 1 }, 1100, "down"],
    ["down, beats again on time", { state: "down", lastBeatAt: 1000, beatsOnTime: 2 }, 1100, "ready"],
    ["not ready, one beat back: hysteresis", { state: "not_ready", lastBeatAt: 5000, beatsOnTime: 1 }, 5100, "not_ready"],
  ];
  for (const [name, view, now, expected] of cases) assert.equal(nodeState(view, now, S).state, expected, name);
  assert.equal(nodeState({ state: "ready", lastBeatAt: 0, beatsOnTime: 3 }, 4200, S).reason, "no heartbeat for 4.2s");
});

test("a starved agent (beats stop for 5 s, then resume) goes not_ready and back, never down", () => {
  let view: HeartbeatView = { state: "initializing", lastBeatAt: null, beatsOnTime: 0 };
  const seen: string[] = [];
  const beatsAt = [...Array.from({ length: 10 }, (_, i) => i * 1000), ...Array.from({ length: 10 }, (_, i) => 14_000 + i * 1000)];
  for (let now = 0; now <= 24_000; now += 250) {
    if (beatsAt.includes(now)) view = onHeartbeat(view, now, S);
    view = { ...view, state: nodeState(view, now, S).state };
    if (seen.at(-1) !== view.state) seen.push(view.state);
  }
  assert.deepEqual(seen, ["initializing", "ready", "not_ready", "ready"]);
});
