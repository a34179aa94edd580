/**
 * The audit trail's chain: each entry's hash covers its own fields and the previous entry's
 * hash, so editing, deleting or reordering an entry breaks every hash after it. The newest hash
 * is also kept outside the database (audit.head in DROVER_HOME), so removing the last entries
 * is noticed too.
 */
import crypto from "node:crypto";
import type { AuditRecord } from "../contract/index.js";

export const GENESIS = "0".repeat(64);

export function auditHash(entry: Omit<AuditRecord, "hash">): string {
  const canonical = JSON.stringify([entry.seq, entry.time, entry.actor, entry.role, entry.action, entry.object, entry.summary, entry.prevHash]);
  return crypto.createHash("sha256").update(canonical).digest("hex");
}

export interface ChainVerdict {
  ok: boolean;
  entries: number;
  /** What is wrong, naming the first entry that does not fit. */
  problem: string | null;
}

/** Checks the whole trail (oldest first) against itself and against the head kept outside it. */
export function verifyChain(entries: AuditRecord[], head: { seq: number; hash: string } | null): ChainVerdict {
  let prevHash = GENESIS;
  let expectedSeq = 1;
  for (const entry of entries) {
    if (entry.seq !== expectedSeq) {
      return { ok: false, entries: entries.length, problem: entry.seq > expectedSeq ? `entry ${expectedSeq}${entry.seq - expectedSeq > 1 ? `–${entry.seq - 1}` : ""} is missing (deleted)` : `entry ${entry.seq} is out of order` };
    }
    if (entry.prevHash !== prevHash) return { ok: false, entries: entries.length, problem: `entry ${entry.seq} does not follow entry ${entry.seq - 1} (reordered or an earlier entry was replaced)` };
    if (auditHash(entry) !== entry.hash) return { ok: false, entries: entries.length, problem: `entry ${entry.seq} was edited (its content does not match its hash)` };
    prevHash = entry.hash;
    expectedSeq++;
  }
  const last = entries[entries.length - 1];
  if (head && (!last || last.seq < head.seq)) return { ok: false, entries: entries.length, problem: `entries after ${last?.seq ?? 0} up to ${head.seq} are missing (deleted from the end)` };
  if (head && last && last.seq === head.seq && last.hash !== head.hash) return { ok: false, entries: entries.length, problem: `entry ${last.seq} is not the one recorded as the newest` };
  return { ok: true, entries: entries.length, problem: null };
}
