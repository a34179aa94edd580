/**
 * Why a pool cannot grow, by source: its settings (a provider that cannot be opened, a machine
 * type the catalog lacks), or a provider call that answered wrongly (garbage, a refused host key).
 * Each source clears only when that same thing works again; the pool shows the first that holds,
 * stored and told as an event when it changes. A failing create alone does not stop creates (they
 * go on with backoff, and its success clears it); anything else does.
 */
import type { PoolRecord } from "../../contract/index.js";
import type { Store } from "../../store/store.js";
import type { EventBus } from "../event-bus.js";

export type ProblemSource = "settings" | "catalog" | "list" | "create";
const ORDER: ProblemSource[] = ["settings", "catalog", "list", "create"];

export class PoolProblems {
  private readonly bySource = new Map<string, Map<ProblemSource, string>>();

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
  ) {}

  async set(record: PoolRecord, source: ProblemSource, message: string | null): Promise<void> {
    const problems = this.bySource.get(record.name) ?? new Map<ProblemSource, string>();
    this.bySource.set(record.name, problems);
    if (message === null) problems.delete(source);
    else problems.set(source, message);
    const shown = ORDER.map((s) => problems.get(s)).find((m) => m !== undefined) ?? null;
    if (record.problem === shown) return;
    record.problem = shown;
    await this.store.updatePool(record.name, { problem: shown });
    if (shown) await this.events.emit({ type: "NodePoolFailed", service: null, replica: null, reason: "ProviderFailed", message: `pool ${record.name}: ${shown}` });
    else await this.events.emit({ type: "NodePoolRecovered", service: null, replica: null, reason: "Recovered", message: `pool ${record.name} can grow again` });
  }

  /** Whether new instances may be asked for (a create's own failure is retried with backoff). */
  mayCreate(pool: string): boolean {
    return [...(this.bySource.get(pool)?.keys() ?? [])].every((source) => source === "create");
  }
}
