import { test } from "node:test";
import assert from "node:assert/strict";
import { backupName, prunable, type BackupFile } from "./postgres-backup.js";

const DAY = 86_400_000;
const now = Date.parse("2026-06-10T03:00:00Z");
const backup = (database: string, daysAgo: number): BackupFile => ({ database, file: backupName(database, now - daysAgo * DAY), at: now - daysAgo * DAY, bytes: 1 });

test("backup names sort by time and carry the database", () => {
  assert.equal(backupName("shop", now), "shop-20260610T030000Z.dump");
  assert.equal(backupName("my-db", Date.parse("2026-01-02T03:04:05.678Z")), "my-db-20260102T030405Z.dump");
});

test("retention: beyond the newest count, or older than days, per database — never the newest one", () => {
  const backups = [0, 1, 2, 3, 4].map((d) => backup("shop", d)).concat([backup("reports", 0), backup("reports", 30)]);
  const names = (list: BackupFile[]) => list.map((b) => `${b.database}-${(now - b.at) / DAY}`).sort();
  assert.deepEqual(names(prunable(backups, { count: 3 }, now)), ["shop-3", "shop-4"]);
  assert.deepEqual(names(prunable(backups, { days: 2 }, now)), ["reports-30", "shop-3", "shop-4"]);
  assert.deepEqual(names(prunable(backups, { count: 2, days: 7 }, now)), ["reports-30", "shop-2", "shop-3", "shop-4"]);
  assert.deepEqual(names(prunable([backup("old", 400)], { count: 1, days: 1 }, now)), [], "the only backup stays, however old");
  assert.deepEqual(prunable(backups, {}, now), [], "no rule, nothing goes");
});
