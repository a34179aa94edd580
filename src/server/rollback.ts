/**
 * Rolling a service back: a new revision that carries the spec of an earlier one (as
 * `kubectl rollout undo` does), annotated with the revision it rolls back from so that a later
 * rollback never returns to it. Used by healing now and by `drover rollback` (with strategies)
 * once rollouts exist.
 */
import type { AppliedService, RevisionRecord, ServiceRecord } from "../contract/index.js";
import type { Store } from "../store/store.js";
import { contentHash } from "./apply-plan.js";
import type { EventBus } from "./event-bus.js";
import { STRATEGY_ANNOTATION } from "../rollout/controller.js";

export const ROLLBACK_FROM = "drover.dev/rollback-from";
export const ROLLBACK_TO = "drover.dev/rollback-to";

/**
 * The revision to go back to from `current`: the newest older one with a different spec that no
 * rollback has left (a revision rolled back from once is known bad). Null when there is none.
 */
export function rollbackTarget(revisions: RevisionRecord[], current: number): RevisionRecord | null {
  const currentRecord = revisions.find((r) => r.number === current);
  const leftBehind = new Set(revisions.map((r) => Number(r.descriptor.metadata.annotations[ROLLBACK_FROM])).filter(Number.isFinite));
  leftBehind.add(current);
  const spec = (r: RevisionRecord) => contentHash(withoutRollbackNotes(r));
  const currentSpec = currentRecord && spec(currentRecord);
  const candidates = revisions.filter((r) => r.number < current && !leftBehind.has(r.number) && spec(r) !== currentSpec);
  return candidates.sort((a, b) => b.number - a.number)[0] ?? null;
}

/**
 * Creates the rollback revision (to `chosen`, or else the {@link rollbackTarget}); null (and
 * nothing changed) when there is nothing to go back to. `notes` are further annotations.
 */
export async function rollBack(store: Store, events: EventBus, service: ServiceRecord, author: string, why: string, chosen?: RevisionRecord, notes: Record<string, string> = {}): Promise<{ applied: AppliedService; target: number } | null> {
  const target = chosen ?? rollbackTarget(await store.listRevisions(service.name), service.revision);
  if (!target) return null;
  const base = withoutRollbackNotes(target);
  const descriptor = { ...base, metadata: { ...base.metadata, annotations: { ...base.metadata.annotations, ...notes, [ROLLBACK_FROM]: String(service.revision), [ROLLBACK_TO]: String(target.number) } } };
  const result = await store.apply({
    services: [{ name: service.name, descriptor, hash: contentHash(descriptor), replicas: service.replicas }],
    configObjects: [],
    deletions: [],
    author,
    message: `rollback to revision ${target.number}: ${why}`,
  });
  events.publish(result.events);
  return { applied: result.services[0]!, target: target.number };
}

function withoutRollbackNotes(revision: RevisionRecord): RevisionRecord["descriptor"] {
  const { [ROLLBACK_FROM]: _from, [ROLLBACK_TO]: _to, [STRATEGY_ANNOTATION]: _strategy, ...annotations } = revision.descriptor.metadata.annotations;
  return { ...revision.descriptor, metadata: { ...revision.descriptor.metadata, annotations } };
}
