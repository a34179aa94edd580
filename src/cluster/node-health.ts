/**
 * A node's state from its heartbeats, with hysteresis: `not_ready` after a few missed beats,
 * `down` only after `downAfterMs` without any, and back to `ready` only after several beats on
 * time, so an agent starved of CPU for a few seconds is never `down` and does not flap.
 */
import type { NodeState } from "../contract/index.js";

export interface HeartbeatSettings {
  heartbeatMs: number;
  /** No heartbeat for this long: not_ready (routers stop sending it new requests). */
  notReadyAfterMs: number;
  /** No heartbeat for this long: down (its replicas are lost and replaced elsewhere). */
  downAfterMs: number;
  /** Heartbeats on time in a row before a node that was not ready is ready again. */
  readyAfterBeats: number;
}

/** Nomad takes 20–30 s to replace a lost node's work, Kubernetes about 350 s, Swarm about 15 s. */
export const DEFAULT_HEARTBEATS: HeartbeatSettings = { heartbeatMs: 1_000, notReadyAfterMs: 3_000, downAfterMs: 10_000, readyAfterBeats: 2 };

export interface HeartbeatView {
  state: NodeState;
  /** When the last heartbeat arrived (null: never). */
  lastBeatAt: number | null;
  /** Heartbeats that came on time, in a row, since the last gap. */
  beatsOnTime: number;
}

/** The state a node should be in now, and why; the same state back when nothing changes. */
export function nodeState(view: HeartbeatView, now: number, settings: HeartbeatSettings): { state: NodeState; reason: string } {
  if (view.lastBeatAt === null) return { state: view.state === "down" ? "down" : "initializing", reason: "no heartbeat yet" };
  const silent = now - view.lastBeatAt;
  const age = `no heartbeat for ${(silent / 1000).toFixed(1)}s`;
  if (silent >= settings.downAfterMs) return { state: "down", reason: age };
  if (silent >= settings.notReadyAfterMs) return { state: view.state === "down" ? "down" : "not_ready", reason: age };
  if (view.state === "ready") return { state: "ready", reason: "heartbeats on time" };
  if (view.beatsOnTime >= settings.readyAfterBeats) return { state: "ready", reason: `${view.beatsOnTime} heartbeats on time` };
  return { state: view.state, reason: view.state === "initializing" ? "waiting for heartbeats" : `${view.beatsOnTime} of ${settings.readyAfterBeats} heartbeats on time` };
}

/** A heartbeat arrived: counts towards readiness when it came within two intervals of the last. */
export function onHeartbeat(view: HeartbeatView, now: number, settings: HeartbeatSettings): HeartbeatView {
  const onTime = view.lastBeatAt !== null && now - view.lastBeatAt <= 2 * settings.heartbeatMs;
  return { ...view, lastBeatAt: now, beatsOnTime: onTime ? view.beatsOnTime + 1 : 1 };
}
