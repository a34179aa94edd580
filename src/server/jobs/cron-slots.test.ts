import { test } from "node:test";
import assert from "node:assert/strict";
import { cronOf, dueSlots, SLOT_COUNT_CAP } from "./cron-slots.js";

const at = (iso: string) => Date.parse(iso);

test("due slots: none before the first, the latest of several after downtime with the rest counted, the next after now", () => {
  const hourly = cronOf("0 * * * *", "UTC");
  assert.deepEqual(dueSlots(hourly, at("2026-01-01T10:00:00Z"), at("2026-01-01T10:30:00Z")), { latest: null, count: 0, next: at("2026-01-01T11:00:00Z") });
  assert.deepEqual(dueSlots(hourly, at("2026-01-01T10:00:00Z"), at("2026-01-01T11:00:00Z")), { latest: at("2026-01-01T11:00:00Z"), count: 1, next: at("2026-01-01T12:00:00Z") });
  // Down from 10:00 to 15:20: five slots passed, 15:00 is the one to run.
  assert.deepEqual(dueSlots(hourly, at("2026-01-01T10:00:00Z"), at("2026-01-01T15:20:00Z")), { latest: at("2026-01-01T15:00:00Z"), count: 5, next: at("2026-01-01T16:00:00Z") });
});

test("six fields read seconds first; a time zone moves the slots", () => {
  const everyTen = cronOf("*/10 * * * * *");
  assert.equal(dueSlots(everyTen, at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:35Z")).count, 3);
  const nineInParis = cronOf("0 9 * * *", "Europe/Paris");
  assert.equal(dueSlots(nineInParis, at("2026-01-01T00:00:00Z"), at("2026-01-01T12:00:00Z")).latest, at("2026-01-01T08:00:00Z"));
  const nineInNewYork = cronOf("0 9 * * *", "America/New_York");
  assert.equal(dueSlots(nineInNewYork, at("2026-07-01T00:00:00Z"), at("2026-07-01T20:00:00Z")).latest, at("2026-07-01T13:00:00Z"));
});

test("a very long outage of a per-second schedule: counting stops at the cap, the latest slot is still the one before now", () => {
  const everySecond = cronOf("* * * * * *");
  const now = at("2026-01-02T00:00:00.500Z");
  const due = dueSlots(everySecond, at("2026-01-01T00:00:00Z"), now);
  assert.equal(due.count, SLOT_COUNT_CAP);
  assert.equal(due.latest, at("2026-01-02T00:00:00Z"));
  assert.equal(due.next, at("2026-01-02T00:00:01Z"));
});
