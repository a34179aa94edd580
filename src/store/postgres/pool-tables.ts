/** The node-pool tables of the PostgreSQL store: pools, their instances, and the instances' transitions. */
import type { EventInput, InstanceRecord, InstanceTransition, PoolRecord } from "../../contract/index.js";
import type { ApplyBatch } from "../store.js";
import { toInstance, toPool, toTransition, type Row } from "../rows.js";

type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;
type Transaction = <T>(work: () => Promise<T>) => Promise<T>;

export class PostgresPoolTables {
  constructor(
    private readonly query: Query,
    private readonly tx: Transaction,
  ) {}

  /** Within the apply's transaction: a new or changed pool's document; its size and instances stay. */
  async apply(pool: NonNullable<ApplyBatch["pools"]>[number], now: number): Promise<EventInput | null> {
    const [existing] = await this.query("SELECT version, hash, deleting FROM node_pools WHERE name = $1", [pool.name]);
    // The same document again stops a removal under way (apply states what should exist).
    if (existing?.hash === pool.hash) {
      if (Number(existing.deleting) === 1) await this.query("UPDATE node_pools SET deleting = 0, updated_at = $1 WHERE name = $2", [now, pool.name]);
      return null;
    }
    const version = existing ? Number(existing.version) + 1 : 1;
    await this.query(
      `INSERT INTO node_pools (name, document, hash, version, desired, problem, updated_at) VALUES ($1, $2, $3, $4, NULL, NULL, $5)
       ON CONFLICT (name) DO UPDATE SET document = EXCLUDED.document, hash = EXCLUDED.hash, version = EXCLUDED.version, problem = NULL, deleting = 0, updated_at = EXCLUDED.updated_at`,
      [pool.name, JSON.stringify(pool.document), pool.hash, version, now],
    );
    return { type: "NodePoolApplied", service: null, replica: null, reason: existing ? "Changed" : "Created", message: `node pool ${pool.name} version ${version}` };
  }

  async list(): Promise<PoolRecord[]> {
    return (await this.query("SELECT * FROM node_pools ORDER BY name")).map(toPool);
  }

  async get(name: string): Promise<PoolRecord | undefined> {
    const [row] = await this.query("SELECT * FROM node_pools WHERE name = $1", [name]);
    return row && toPool(row);
  }

  async update(name: string, patch: Partial<Pick<PoolRecord, "desired" | "problem" | "deleting">>, now: number): Promise<void> {
    if ("deleting" in patch) await this.query("UPDATE node_pools SET deleting = $1, updated_at = $2 WHERE name = $3", [patch.deleting ? 1 : 0, now, name]);
    if ("desired" in patch) await this.query("UPDATE node_pools SET desired = $1, updated_at = $2 WHERE name = $3", [patch.desired ?? null, now, name]);
    if ("problem" in patch) await this.query("UPDATE node_pools SET problem = $1 WHERE name = $2", [patch.problem ?? null, name]);
  }

  async delete(name: string): Promise<void> {
    await this.tx(async () => {
      await this.query("DELETE FROM pool_transitions WHERE pool = $1", [name]);
      await this.query("DELETE FROM pool_instances WHERE pool = $1", [name]);
      await this.query("DELETE FROM node_pools WHERE name = $1", [name]);
    });
  }

  async listInstances(pool?: string): Promise<InstanceRecord[]> {
    const rows = pool === undefined ? await this.query("SELECT document FROM pool_instances ORDER BY id") : await this.query("SELECT document FROM pool_instances WHERE pool = $1 ORDER BY id", [pool]);
    return rows.map(toInstance);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    const [row] = await this.query("SELECT document FROM pool_instances WHERE id = $1", [id]);
    return row && toInstance(row);
  }

  async putInstance(instance: InstanceRecord): Promise<void> {
    await this.tx(async () => {
      // The row is locked for the transaction: two writers of one instance append one transition each, in order.
      const [existing] = await this.query("SELECT state FROM pool_instances WHERE id = $1 FOR UPDATE", [instance.id]);
      await this.query(
        `INSERT INTO pool_instances (id, pool, state, document, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET pool = EXCLUDED.pool, state = EXCLUDED.state, document = EXCLUDED.document, updated_at = EXCLUDED.updated_at`,
        [instance.id, instance.pool, instance.state, JSON.stringify(instance), instance.updatedAt],
      );
      if (existing?.state === instance.state) return;
      await this.query("INSERT INTO pool_transitions (instance, pool, from_state, to_state, at, reason) VALUES ($1, $2, $3, $4, $5, $6)", [instance.id, instance.pool, existing ? String(existing.state) : null, instance.state, instance.stateSince, instance.stateReason]);
    });
  }

  async listTransitions(pool: string): Promise<InstanceTransition[]> {
    return (await this.query("SELECT * FROM pool_transitions WHERE pool = $1 ORDER BY id", [pool])).map(toTransition);
  }
}
