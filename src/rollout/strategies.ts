/**
 * What each rollout strategy does with the replicas of the new revision and the old ones, given
 * what runs now. Pure (no I/O, no clock but `now`), so every case is a table test; the rollout
 * controller carries the result out and records the progress.
 */
import type { CountOrPercent, ServiceSpec } from "../spec/index.js";
import type { ReplicaRecord, RolloutRecord } from "../contract/index.js";
import type { ReplicaAction } from "../server/replica-plan.js";

export interface StrategyInput {
  desired: number;
  deployment: ServiceSpec["deployment"];
  rollout: Pick<RolloutRecord, "strategy" | "fromRevision" | "toRevision" | "step" | "stepStartedAt" | "state">;
  /** Replicas of the new revision (not terminating). */
  current: ReplicaRecord[];
  /** Replicas of every other revision (not terminating). */
  old: ReplicaRecord[];
  now: number;
}

export interface StrategyDecision {
  actions: ReplicaAction[];
  /** Each revision's share of new requests; null: every ready replica alike. */
  weights: Record<string, number> | null;
  /** Canary: all of this step's replicas are ready (its pause may run). Blue-green: the new set passed its gate. */
  stepReady: boolean;
  /** Every replica runs the new revision, all available: the rollout is done. */
  complete: boolean;
  /** Progress markers: changes in these mean progress (for progress_deadline). */
  progress: string;
  wakeAt: number | null;
}

/** A replica counts as available once it has been ready for min_ready. */
export function isAvailable(replica: ReplicaRecord, minReadyMs: number, now: number): boolean {
  return replica.state === "ready" && replica.readyAt !== null && replica.readyAt + minReadyMs <= now;
}

/** Kubernetes' rounding: surge rounds up, unavailable rounds down; both 0 would deadlock, so surge becomes 1. */
export function rollingBounds(desired: number, rolling: ServiceSpec["deployment"]["rolling"]): { surge: number; unavailable: number } {
  const resolve = (value: CountOrPercent, round: (n: number) => number) => ("count" in value ? value.count : round((desired * value.percent) / 100));
  const surge = resolve(rolling.max_surge, Math.ceil);
  const unavailable = Math.min(desired, resolve(rolling.max_unavailable, Math.floor));
  return surge === 0 && unavailable === 0 ? { surge: 1, unavailable: 0 } : { surge, unavailable };
}

/** Not ready first, then newest first: the order in which replicas are given up. */
function giveUpOrder(a: ReplicaRecord, b: ReplicaRecord): number {
  return Number(a.state === "ready") - Number(b.state === "ready") || b.createdAt - a.createdAt || b.id.localeCompare(a.id);
}

function stops(replicas: ReplicaRecord[], reason: string): ReplicaAction[] {
  return replicas.map((r) => ({ type: "stop", replica: r.id, reason }) as const);
}

function creates(count: number, revision: number): ReplicaAction[] {
  return Array.from({ length: Math.max(0, count) }, () => ({ type: "create", revision }) as const);
}

export function decideStrategy(input: StrategyInput): StrategyDecision {
  switch (input.rollout.strategy) {
    case "rolling":
      return rolling(input);
    case "blue_green":
    case "immediate":
      return blueGreen(input);
    case "canary":
      return canary(input);
  }
}

function minReadyWake(replicas: ReplicaRecord[], minReady: number, now: number): number | null {
  const times = replicas.filter((r) => r.state === "ready" && r.readyAt !== null && r.readyAt + minReady > now).map((r) => r.readyAt! + minReady);
  return times.length ? Math.min(...times) : null;
}

/** Kubernetes Deployment semantics: at most desired + surge replicas, at least desired − unavailable available. */
function rolling({ desired, deployment, rollout, current, old, now }: StrategyInput): StrategyDecision {
  const { surge, unavailable } = rollingBounds(desired, deployment.rolling);
  const minReady = deployment.rolling.min_ready;
  const actions: ReplicaAction[] = [];
  const total = current.length + old.length;
  actions.push(...creates(Math.min(desired - current.length, desired + surge - total), rollout.toRevision));
  if (current.length > desired) actions.push(...stops([...current].sort(giveUpOrder).slice(0, current.length - desired), "scaled down"));
  // Old replicas that are not available count for nothing: they go first, at once.
  const oldUnavailable = old.filter((r) => !isAvailable(r, 0, now));
  const oldAvailable = old.filter((r) => isAvailable(r, 0, now)).sort(giveUpOrder);
  actions.push(...stops(oldUnavailable, "replaced by a new revision (not ready)"));
  const available = current.filter((r) => isAvailable(r, minReady, now)).length + oldAvailable.length;
  const canLose = Math.max(0, available - (desired - unavailable));
  actions.push(...stops(oldAvailable.slice(0, canLose), "replaced by a new revision"));
  const newAvailable = current.filter((r) => isAvailable(r, minReady, now)).length;
  return {
    actions,
    weights: null,
    stepReady: true,
    complete: old.length === 0 && newAvailable >= desired && current.length === desired,
    progress: `${newAvailable}/${old.length}`,
    wakeAt: minReadyWake(current, minReady, now),
  };
}

/** The new set at full size beside the old; all traffic moves at once when it is ready; the old set goes after scale_down_delay. */
function blueGreen({ desired, deployment, rollout, current, old, now }: StrategyInput): StrategyDecision {
  const immediate = rollout.strategy === "immediate";
  const minReady = immediate ? 0 : deployment.rolling.min_ready;
  const actions: ReplicaAction[] = [...creates(desired - current.length, rollout.toRevision)];
  if (current.length > desired) actions.push(...stops([...current].sort(giveUpOrder).slice(0, current.length - desired), "scaled down"));
  const newAvailable = current.filter((r) => isAvailable(r, minReady, now)).length;
  const gatePassed = newAvailable >= desired;
  const switchedAt = rollout.stepStartedAt;
  let weights: Record<string, number> = { [rollout.fromRevision]: 100, [rollout.toRevision]: 0 };
  let wakeAt = minReadyWake(current, minReady, now);
  if (switchedAt !== null) {
    weights = { [rollout.toRevision]: 100 };
    const delay = immediate ? 0 : deployment.blue_green.scale_down_delay;
    if (now >= switchedAt + delay) actions.push(...stops(old, "blue-green: the new set took over"));
    else wakeAt = switchedAt + delay;
  }
  return {
    actions,
    weights,
    stepReady: gatePassed,
    complete: switchedAt !== null && old.length === 0 && gatePassed,
    progress: `${newAvailable}/${switchedAt ?? "-"}/${old.length}`,
    wakeAt,
  };
}

export function canarySteps(deployment: ServiceSpec["deployment"]): Array<{ weight: number; pause: number }> {
  return deployment.canary.steps.length ? deployment.canary.steps : [{ weight: 100, pause: 0 }];
}

/** Step by step: a canary set sized to its weight takes that share of requests; the stable set stays whole until promotion. */
function canary({ desired, deployment, rollout, current, old }: StrategyInput): StrategyDecision {
  const steps = canarySteps(deployment);
  const promoting = rollout.step >= steps.length;
  const weight = promoting ? 100 : steps[rollout.step]!.weight;
  const target = promoting || weight >= 100 ? desired : Math.min(desired, Math.max(1, Math.ceil((desired * weight) / 100)));
  const actions: ReplicaAction[] = [...creates(target - current.length, rollout.toRevision)];
  if (current.length > target) actions.push(...stops([...current].sort(giveUpOrder).slice(0, current.length - target), "canary resized"));
  const ready = current.filter((r) => r.state === "ready").length;
  const stepReady = ready >= target;
  let weights: Record<string, number> | null = { [rollout.fromRevision]: 100 - weight, [rollout.toRevision]: weight };
  if (promoting && stepReady) {
    actions.push(...stops(old, "canary promoted"));
    weights = null;
  }
  // Old revisions other than the stable one get nothing during a canary.
  for (const r of old) if (weights && r.revision !== rollout.fromRevision) actions.push({ type: "stop", replica: r.id, reason: "replaced by a new revision" });
  return {
    actions,
    weights,
    stepReady,
    complete: promoting && stepReady && old.length === 0,
    progress: `${rollout.step}/${ready}/${old.length}`,
    wakeAt: null,
  };
}

/**
 * The health gate every strategy shares: a replica of the new revision that crash-loops, has
 * failed for good, or was stopped by a probe trigger fails the rollout at once.
 */
export function failedGate(current: ReplicaRecord[]): string | null {
  for (const r of current) {
    if (r.state === "crash_loop") return `replica ${r.id} of the new revision is crash-looping (${r.lastExit?.signal ?? `exit code ${r.lastExit?.code}`})`;
    if (r.state === "failed") return `replica ${r.id} of the new revision failed (${r.reason})`;
    if (r.healing.readinessTimeoutFor !== null && r.healing.readinessTimeoutFor === r.startedAt) return `replica ${r.id} of the new revision did not become ready in time`;
    if (r.restarts > 0 && r.lastExit && r.readyAt === null && r.consecutiveFailures >= 2) return `replica ${r.id} of the new revision keeps exiting before it is ready`;
  }
  return null;
}
