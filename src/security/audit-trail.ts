/**
 * The audit trail: every change made through the API, with who made it (token name and role),
 * what, to which object and a summary — never a secret's value. Appended to the store's
 * hash-chained table; the newest entry's number and hash are also written to DROVER_HOME/audit.head
 * so that entries removed from the end are noticed by `drover audit verify`.
 */
import fs from "node:fs";
import path from "node:path";
import type { AuditInput, AuditRecord } from "../contract/index.js";
import type { Store } from "../store/store.js";
import { verifyChain, type ChainVerdict } from "./audit-chain.js";

const HEAD_FILE = "audit.head";

export class AuditTrail {
  constructor(
    private readonly store: Store,
    private readonly home: string,
  ) {}

  async record(entry: AuditInput): Promise<AuditRecord> {
    const record = await this.store.appendAudit(entry);
    const file = path.join(this.home, HEAD_FILE);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ seq: record.seq, hash: record.hash }), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
    return record;
  }

  list(since?: number): Promise<AuditRecord[]> {
    return this.store.listAudit(since);
  }

  async verify(): Promise<ChainVerdict> {
    return verifyChain(await this.store.listAudit(), this.head());
  }

  private head(): { seq: number; hash: string } | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.home, HEAD_FILE), "utf8")) as { seq: number; hash: string };
    } catch {
      return null;
    }
  }
}
