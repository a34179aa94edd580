/**
 * The node-pool controller (the leader's): every pool is kept at its size with instances from its
 * provider, each instance led through its lifecycle (provisioning → booting → joining → ready →
 * draining → terminating → terminated → archived, or failed / lost), the provider's own list
 * compared with the store so nothing leaks, and the cluster autoscaler's decisions carried out.
 *
 * A provider's slow calls (an SSH install takes seconds) run beside the loop, one at a time per
 * instance; the loop itself only reads and decides.
 */
import crypto from "node:crypto";
import { LIVE_INSTANCE_STATES, type InstanceRecord, type NodeDirectory, type NodeRecord, type PoolRecord, type ReplicaRecord } from "../../contract/index.js";
import { createJoinToken } from "../../cluster/join-tokens.js";
import { mergeCatalog, ProviderError, type CreateRequest, type Provider } from "../../cluster/pools/provider.js";
import type { MachineType, ServiceSpec } from "../../spec/index.js";
import type { Store } from "../../store/store.js";
import { serverLog } from "../server-log.js";
import type { EventBus } from "../event-bus.js";
import { InstanceMoves } from "./instance-moves.js";
import { PoolAutoscaling } from "./pool-autoscaling.js";
import { PoolProblems } from "./pool-problems.js";
import { clusterId } from "./pool-views.js";
import { ProviderSync } from "./provider-sync.js";

export interface PoolControllerOptions {
  /** The leader's fenced store. */
  store: Store;
  directory: NodeDirectory;
  events: EventBus;
  /** Where new nodes dial and the CA they check; null when this server accepts no agents. */
  joinInfo: () => Promise<{ servers: string[]; caHash: string } | null>;
  openProvider: (pool: PoolRecord, cluster: string) => Promise<Provider>;
  now?: () => number;
  tickMs?: number;
  /** How often each pool's provider list is compared with the store. */
  syncMs?: number;
  /** How long terminated and failed instances stay listed before they are archived. */
  archiveAfterMs?: number;
}

/** A pool as the controller works with it this pass. */
export interface ActivePool {
  record: PoolRecord;
  provider: Provider;
  machine: MachineType;
  instances: InstanceRecord[];
}

/** After a create fails, the pool waits this long before the next (doubling up to a minute). */
const FIRST_BACKOFF_MS = 2_000;

export class PoolController {
  private readonly store: Store;
  private readonly moves: InstanceMoves;
  private readonly sync: ProviderSync;
  private readonly autoscaling: PoolAutoscaling;
  private readonly now: () => number;
  private readonly providers = new Map<string, { hash: string; provider: Provider; catalog: MachineType[] | null; catalogAt: number }>();
  /** Instances with a provider call under way. */
  private readonly busy = new Set<string>();
  private readonly backoff = new Map<string, { until: number; delayMs: number }>();
  private readonly problems: PoolProblems;
  private readonly syncMs: number;
  private readonly specs = new Map<string, ServiceSpec | undefined>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private closed = false;
  private cluster: string | null = null;

  constructor(private readonly options: PoolControllerOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.moves = new InstanceMoves(options.store, options.events, this.now);
    this.problems = new PoolProblems(options.store, options.events);
    this.syncMs = options.syncMs ?? Number(process.env.DROVER_POOL_SYNC_MS ?? 15_000);
    this.sync = new ProviderSync(this.moves, options.events, {
      run: (id, work) => this.run(id, work),
      isBusy: (id) => this.busy.has(id),
      forgetNode: (instance) => this.forgetNode(instance),
      listed: (pool, error) => this.providerAnswered(pool.record, "list", error),
      reload: (pool) => this.store.listInstances(pool),
    }, this.syncMs, this.now);
    this.autoscaling = new PoolAutoscaling(options.store, options.directory, options.events, this.moves, this.now);
  }

  start(): void {
    const tickMs = this.options.tickMs ?? Number(process.env.DROVER_POOL_TICK_MS ?? 1_000);
    this.timer = setInterval(() => void this.tick(), tickMs).unref();
    void this.tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const deadline = Date.now() + 5_000;
    while ((this.ticking || this.busy.size > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** One pass over every pool. */
  async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      const records = await this.store.listPools();
      if (records.length === 0) return;
      this.cluster ??= await clusterId(this.store);
      const instances = await this.store.listInstances();
      const nodes = this.options.directory.nodes();
      const replicas = await this.store.listReplicas();
      const active: ActivePool[] = [];
      for (const record of records) {
        const pool = await this.activate(record, instances.filter((i) => i.pool === record.name));
        if (!pool) continue;
        await this.sync.maybeSync(pool);
        // Provider calls beside the loop may have moved instances meanwhile: each step starts from the store.
        pool.instances = await this.store.listInstances(record.name);
        await this.lifecycle(pool, nodes, replicas);
        active.push(pool);
      }
      const specOf = await this.specReader(replicas);
      await this.autoscaling.evaluate(active, nodes, replicas, specOf);
      for (const pool of active) await this.size(pool, replicas);
    } catch (error) {
      serverLog("error", "node pools: a pass failed", { error: (error as Error).message });
    } finally {
      this.ticking = false;
    }
  }

  /** The pool with its provider and machine, or null (its problem recorded) when it cannot work now. */
  private async activate(record: PoolRecord, instances: InstanceRecord[]): Promise<ActivePool | null> {
    let entry = this.providers.get(record.name);
    if (!entry || entry.hash !== record.hash) {
      try {
        entry = { hash: record.hash, provider: await this.options.openProvider(record, this.cluster!), catalog: null, catalogAt: 0 };
      } catch (error) {
        await this.problems.set(record, "settings", `cannot open the ${record.document.spec.provider} provider: ${(error as Error).message}`);
        return null;
      }
      this.providers.set(record.name, entry);
    }
    const spec = record.document.spec;
    if (typeof spec.machine !== "string") {
      await this.problems.set(record, "settings", null);
      return { record, provider: entry.provider, machine: { name: "custom", hourly_cost: 0, watts: 0, ...spec.machine }, instances };
    }
    // The catalog is asked again now and then: a failing one soon, a working one to be refreshed.
    if (this.now() - entry.catalogAt > (entry.catalog ? 300_000 : this.syncMs)) {
      entry.catalogAt = this.now();
      try {
        entry.catalog = mergeCatalog(await entry.provider.catalog(), spec.catalog);
        await this.problems.set(record, "catalog", null);
      } catch (error) {
        // Kept until the catalog answers right again (a stale one still serves meanwhile).
        await this.problems.set(record, "catalog", `the provider's catalog failed: ${(error as Error).message}`);
        if (!entry.catalog) return this.withoutMachine(record, entry.provider, instances);
      }
    }
    if (!entry.catalog) return this.withoutMachine(record, entry.provider, instances);
    const machine = entry.catalog.find((m) => m.name === spec.machine);
    if (!machine) {
      await this.problems.set(record, "settings", `machine type "${spec.machine}" is not in the ${spec.provider} provider's catalog (${entry.catalog.map((m) => m.name).join(", ")})`);
      return this.withoutMachine(record, entry.provider, instances);
    }
    await this.problems.set(record, "settings", null);
    return { record, provider: entry.provider, machine, instances };
  }

  /** A pool that cannot grow still has its instances looked after (with the machine they were made with). */
  private withoutMachine(record: PoolRecord, provider: Provider, instances: InstanceRecord[]): ActivePool | null {
    const machine = instances[0]?.machine;
    return machine ? { record: { ...record, problem: record.problem ?? "cannot grow" }, provider, machine, instances } : null;
  }

  /** A provider call answered (error null) or answered wrongly (a ProviderError): the pool's problem follows. */
  private async providerAnswered(record: PoolRecord, verb: "list" | "create", error: Error | null): Promise<void> {
    await this.problems.set(record, verb, error instanceof ProviderError ? error.message : null);
  }

  /** Each instance one step further, where its node or the clock says so. */
  private async lifecycle(pool: ActivePool, nodes: NodeRecord[], replicas: ReplicaRecord[]): Promise<void> {
    const spec = pool.record.document.spec;
    for (const instance of pool.instances) {
      if (this.busy.has(instance.id)) continue;
      const node = nodes.find((n) => n.name === instance.id);
      const age = this.now() - instance.createdAt;
      switch (instance.state) {
        case "booting":
          // drover stopped between create and start: start it (starting a running one changes nothing).
          this.run(instance.id, () => this.boot(pool, instance));
          break;
        case "joining":
          if (node?.state === "ready") await this.moves.move(instance, "ready", `node ${node.name} is ready (${Math.round(age / 100) / 10}s after it was asked for)`);
          else if (age > spec.boot_timeout) this.run(instance.id, async () => this.terminate(pool, await this.moves.move(instance, "failed", `boot timeout: not a ready node ${Math.round(spec.boot_timeout / 1000)}s after it was asked for${node ? ` (node ${node.state}: ${node.stateReason})` : " (its agent never joined)"}`)));
          break;
        case "ready":
          if (!node) await this.moves.move(instance, "lost", "its node was removed");
          else if (node.state === "down") await this.moves.move(instance, "lost", `heartbeats stopped: ${node.stateReason}`);
          break;
        case "lost":
          if (node?.state === "ready") {
            this.run(instance.id, async () => {
              if (await pool.provider.exists(instance.providerId ?? "")) await this.moves.move(instance, "ready", "heartbeats resumed");
              else await this.gone(instance, "heartbeats resumed from a node its provider no longer has");
            });
          } else if (this.now() - instance.stateSince > spec.boot_timeout) {
            this.run(instance.id, () => this.terminate(pool, instance, `lost for ${Math.round((this.now() - instance.stateSince) / 1000)}s`));
          }
          break;
        case "draining": {
          const holds = replicas.some((r) => r.node === instance.id && r.state !== "lost" && r.state !== "exited" && r.state !== "failed");
          if (!node || (!node.draining && !holds)) this.run(instance.id, () => this.terminate(pool, instance, node ? "drained: its replicas run elsewhere" : "its node is gone"));
          break;
        }
        case "terminating":
          this.run(instance.id, () => this.terminate(pool, instance));
          break;
        case "terminated":
        case "failed":
          if (instance.state === "failed" && instance.providerId) this.run(instance.id, () => this.terminate(pool, instance));
          else if (this.now() - instance.stateSince > (this.options.archiveAfterMs ?? Number(process.env.DROVER_POOL_ARCHIVE_MS ?? 3_600_000))) await this.moves.move(instance, "archived", "history only");
          break;
      }
    }
  }

  /** New instances up to the size asked for; surplus ones drained and terminated. */
  private async size(pool: ActivePool, replicas: ReplicaRecord[]): Promise<void> {
    const { record } = pool;
    const spec = record.document.spec;
    const instances = await this.store.listInstances(record.name);
    const live = instances.filter((i) => LIVE_INSTANCE_STATES.includes(i.state) && i.state !== "draining");
    if (record.deleting && instances.every((i) => !LIVE_INSTANCE_STATES.includes(i.state) && i.state !== "terminating")) {
      // Everything it made is gone: the pool and its history go too.
      await this.store.deletePool(record.name);
      this.providers.delete(record.name);
      await this.options.events.emit({ type: "NodePoolDeleted", service: null, replica: null, reason: "Deleted", message: `pool ${record.name}: every instance terminated; the pool is removed` });
      return;
    }
    const desired = record.deleting ? 0 : Math.min(spec.max, Math.max(spec.min, record.desired ?? spec.min));
    if (live.length < desired) {
      const backoff = this.backoff.get(record.name);
      if (!this.problems.mayCreate(record.name) || (backoff && backoff.until > this.now())) return;
      for (let i = live.length; i < desired; i++) await this.create(pool, `pool ${record.name} has ${live.length} of ${desired}`);
      return;
    }
    if (live.length > desired) {
      const count = (i: InstanceRecord) => replicas.filter((r) => r.node === i.id).length;
      // Lost ones first, then the emptiest and newest of the ready.
      const victims = [...live.filter((i) => i.state === "lost"), ...live.filter((i) => i.state === "ready").sort((a, b) => count(a) - count(b) || b.createdAt - a.createdAt)].slice(0, live.length - desired);
      // Still on their way: a removal waits for them to be ready (or to fail), then takes them too.
      for (const victim of victims) {
        const why = record.deleting ? `pool ${record.name} is being removed` : `pool ${record.name} scaled to ${desired}`;
        if (victim.state === "lost") this.run(victim.id, () => this.terminate(pool, victim, why));
        else await this.drain(victim, why);
      }
    }
  }

  /** Cordons the instance's node and moves its replicas off (new ones elsewhere first); it is terminated once empty. */
  async drain(instance: InstanceRecord, reason: string): Promise<void> {
    await this.options.directory.updateNode(instance.id, { cordoned: true, draining: true });
    await this.moves.move(instance, "draining", reason);
  }

  /** The intent is stored before the provider is asked, so a crash in between leaks nothing (the provider sync finds it by its tag). */
  private async create(pool: ActivePool, reason: string): Promise<void> {
    const now = this.now();
    const id = `${pool.record.name}-${crypto.randomBytes(3).toString("hex")}`;
    const instance = await this.moves.record({ id, pool: pool.record.name, machine: pool.machine, state: "provisioning", stateReason: reason, stateSince: now, providerId: null, address: null, createdAt: now, updatedAt: now });
    this.run(id, async () => {
      let created: { providerId: string; address: string | null };
      try {
        created = await pool.provider.create(await this.request(pool, instance));
      } catch (error) {
        await this.createFailed(pool, instance, error as Error);
        return;
      }
      this.backoff.delete(pool.record.name);
      await this.providerAnswered(pool.record, "create", null);
      await this.boot(pool, await this.moves.move(instance, "booting", `created by the ${pool.record.document.spec.provider} provider as ${created.providerId}`, created));
    });
  }

  private async createFailed(pool: ActivePool, instance: InstanceRecord, error: Error): Promise<void> {
    const previous = this.backoff.get(pool.record.name)?.delayMs ?? FIRST_BACKOFF_MS / 2;
    const delayMs = Math.min(60_000, previous * 2);
    this.backoff.set(pool.record.name, { until: this.now() + delayMs, delayMs });
    await this.moves.move(instance, "failed", `provisioning failed: ${error.message}`);
    // A provider that answers garbage is broken, not busy: the pool says so until it answers right.
    await this.providerAnswered(pool.record, "create", error);
  }

  private async boot(pool: ActivePool, instance: InstanceRecord): Promise<void> {
    try {
      await pool.provider.start(instance.providerId!, await this.request(pool, instance));
      const address = instance.address ?? (await pool.provider.address(instance.providerId!));
      await this.moves.move(instance, "joining", "started: waiting for its agent to join", { address });
    } catch (error) {
      await this.terminate(pool, await this.moves.move(instance, "failed", `start failed: ${(error as Error).message}`));
    }
  }

  /** Terminates at the provider (repeatable), then forgets the node. */
  private async terminate(pool: ActivePool, instance: InstanceRecord, reason?: string): Promise<void> {
    let current = instance;
    if (current.state !== "terminating") current = await this.moves.move(current, "terminating", reason ?? current.stateReason);
    if (current.providerId) {
      try {
        await pool.provider.terminate(current.providerId);
      } catch (error) {
        // Stays terminating: the next pass tries again.
        serverLog("warn", "node pools: terminate failed", { instance: current.id, error: (error as Error).message });
        return;
      }
    }
    await this.gone(current, `terminated by the ${pool.record.document.spec.provider} provider`);
  }

  private async gone(instance: InstanceRecord, reason: string): Promise<void> {
    await this.moves.move(instance, "terminated", reason);
    await this.forgetNode(instance);
  }

  private async forgetNode(instance: InstanceRecord): Promise<void> {
    await this.options.directory.removeNode(instance.id);
  }

  private async request(pool: ActivePool, instance: InstanceRecord): Promise<CreateRequest> {
    const join = await this.options.joinInfo();
    if (!join) throw new ProviderError("this server accepts no agents: start it with --cluster-listen ADDR:PORT");
    const spec = pool.record.document.spec;
    // A token for this instance alone, valid through its boot.
    const { token } = await createJoinToken(this.store, spec.boot_timeout + 60_000, `pool ${pool.record.name}`, this.now());
    return { instance: instance.id, pool: pool.record.name, cluster: this.cluster!, machine: instance.machine, labels: spec.labels, join: { servers: join.servers, token, caHash: join.caHash } };
  }

  /** Runs a provider call for one instance beside the loop; a second one for the same instance waits for the next pass. */
  private run(id: string, work: () => Promise<void>): void {
    if (this.busy.has(id) || this.closed) return;
    this.busy.add(id);
    void work()
      .catch((error: Error) => serverLog("error", "node pools: an instance step failed", { instance: id, error: error.message }))
      .finally(() => this.busy.delete(id));
  }

  private async specReader(replicas: ReplicaRecord[]): Promise<(replica: ReplicaRecord) => ServiceSpec | undefined> {
    for (const r of replicas) {
      const key = `${r.service}@${r.revision}`;
      if (!this.specs.has(key)) this.specs.set(key, (await this.store.getRevision(r.service, r.revision))?.descriptor.spec);
    }
    return (r) => this.specs.get(`${r.service}@${r.revision}`);
  }
}

