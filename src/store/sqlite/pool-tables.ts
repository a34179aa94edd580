/** The node-pool tables of the SQLite store: pools, their instances, and the instances' transitions. */
import type Database from "better-sqlite3";
import type { EventInput, InstanceRecord, InstanceTransition, PoolRecord } from "../../contract/index.js";
import type { ApplyBatch } from "../store.js";
import { toInstance, toPool, toTransition, type Row } from "../rows.js";

export class SqlitePoolTables {
  constructor(
    private readonly db: Database.Database,
    private readonly statement: (sql: string) => Database.Statement,
  ) {}

  /** Within the apply's transaction: a new or changed pool's document; its size and instances stay. */
  apply(pool: NonNullable<ApplyBatch["pools"]>[number], now: number): EventInput | null {
    const existing = this.statement("SELECT version, hash, deleting FROM node_pools WHERE name = ?").get(pool.name) as Row | undefined;
    // The same document again stops a removal under way (apply states what should exist).
    if (existing?.hash === pool.hash) {
      if (Number(existing.deleting) === 1) this.statement("UPDATE node_pools SET deleting = 0, updated_at = ? WHERE name = ?").run(now, pool.name);
      return null;
    }
    const version = existing ? Number(existing.version) + 1 : 1;
    if (existing) this.statement("UPDATE node_pools SET document = ?, hash = ?, version = ?, problem = NULL, deleting = 0, updated_at = ? WHERE name = ?").run(JSON.stringify(pool.document), pool.hash, version, now, pool.name);
    else this.statement("INSERT INTO node_pools (name, document, hash, version, desired, problem, updated_at) VALUES (?, ?, ?, ?, NULL, NULL, ?)").run(pool.name, JSON.stringify(pool.document), pool.hash, version, now);
    return { type: "NodePoolApplied", service: null, replica: null, reason: existing ? "Changed" : "Created", message: `node pool ${pool.name} version ${version}` };
  }

  list(): PoolRecord[] {
    return (this.statement("SELECT * FROM node_pools ORDER BY name").all() as Row[]).map(toPool);
  }

  get(name: string): PoolRecord | undefined {
    const row = this.statement("SELECT * FROM node_pools WHERE name = ?").get(name) as Row | undefined;
    return row && toPool(row);
  }

  update(name: string, patch: Partial<Pick<PoolRecord, "desired" | "problem" | "deleting">>, now: number): void {
    if ("deleting" in patch) this.statement("UPDATE node_pools SET deleting = ?, updated_at = ? WHERE name = ?").run(patch.deleting ? 1 : 0, now, name);
    if ("desired" in patch) this.statement("UPDATE node_pools SET desired = ?, updated_at = ? WHERE name = ?").run(patch.desired ?? null, now, name);
    if ("problem" in patch) this.statement("UPDATE node_pools SET problem = ? WHERE name = ?").run(patch.problem ?? null, name);
  }

  delete(name: string): void {
    this.db.transaction(() => {
      this.statement("DELETE FROM pool_transitions WHERE pool = ?").run(name);
      this.statement("DELETE FROM pool_instances WHERE pool = ?").run(name);
      this.statement("DELETE FROM node_pools WHERE name = ?").run(name);
    })();
  }

  listInstances(pool?: string): InstanceRecord[] {
    const rows = pool === undefined ? this.statement("SELECT document FROM pool_instances ORDER BY id").all() : this.statement("SELECT document FROM pool_instances WHERE pool = ? ORDER BY id").all(pool);
    return (rows as Row[]).map(toInstance);
  }

  getInstance(id: string): InstanceRecord | undefined {
    const row = this.statement("SELECT document FROM pool_instances WHERE id = ?").get(id) as Row | undefined;
    return row && toInstance(row);
  }

  putInstance(instance: InstanceRecord): void {
    this.db.transaction(() => {
      const existing = this.statement("SELECT state FROM pool_instances WHERE id = ?").get(instance.id) as Row | undefined;
      this.statement("INSERT OR REPLACE INTO pool_instances (id, pool, state, document, updated_at) VALUES (?, ?, ?, ?, ?)").run(instance.id, instance.pool, instance.state, JSON.stringify(instance), instance.updatedAt);
      if (existing?.state === instance.state) return;
      this.statement("INSERT INTO pool_transitions (instance, pool, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?, ?)").run(instance.id, instance.pool, existing ? String(existing.state) : null, instance.state, instance.stateSince, instance.stateReason);
    })();
  }

  listTransitions(pool: string): InstanceTransition[] {
    return (this.statement("SELECT * FROM pool_transitions WHERE pool = ? ORDER BY id").all(pool) as Row[]).map(toTransition);
  }
}
