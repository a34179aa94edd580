/**
 * Which cron slots have come due, read with croner in the job's time zone. After downtime every
 * slot that passed is counted, but only the latest is returned to run: one catch-up run, never a
 * burst, and never stuck however long drover was away (counting stops at a cap, as the slots
 * between are only a number by then).
 */
import { Cron } from "croner";

/** Beyond this many passed slots the count reads "at least" (a per-second schedule after a long outage). */
export const SLOT_COUNT_CAP = 10_000;

export interface DueSlots {
  /** The latest slot at or before `now`, after `after`; null when none came due. */
  latest: number | null;
  /** How many slots came due (the latest included), up to the cap. */
  count: number;
  /** The first slot after `now`. */
  next: number | null;
}

export function cronOf(schedule: string, timeZone?: string): Cron {
  return new Cron(schedule, { paused: true, ...(timeZone ? { timezone: timeZone } : {}) });
}

export function dueSlots(cron: Cron, after: number, now: number): DueSlots {
  let latest: number | null = null;
  let count = 0;
  let cursor = cron.nextRun(new Date(after));
  while (cursor && cursor.getTime() <= now && count < SLOT_COUNT_CAP) {
    latest = cursor.getTime();
    count++;
    cursor = cron.nextRun(cursor);
  }
  // Past the cap, the rest are skipped over in one step: the latest due slot is the one before now's next.
  if (count >= SLOT_COUNT_CAP && cursor && cursor.getTime() <= now) {
    const next = cron.nextRun(new Date(now));
    const previous = cron.previousRuns(1, new Date(now + 1))[0];
    latest = previous ? previous.getTime() : latest;
    return { latest, count, next: next ? next.getTime() : null };
  }
  return { latest, count, next: cursor ? cursor.getTime() : null };
}
