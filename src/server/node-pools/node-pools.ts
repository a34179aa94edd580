/**
 * Node pools as the control plane holds them: the controller runs while this server leads (once
 * the server has said how to reach it and open providers), and every server answers what the
 * pools are from the store.
 */
import type { NodeDirectory, PoolView } from "../../contract/index.js";
import type { Store } from "../../store/store.js";
import type { EventBus } from "../event-bus.js";
import { PoolController, type PoolControllerOptions } from "./pool-controller.js";
import { clusterId, poolView } from "./pool-views.js";

/** What the controller needs from the server: where new nodes dial, and the providers. */
export type PoolHost = Pick<PoolControllerOptions, "joinInfo" | "openProvider">;

export class NodePools {
  private host: PoolHost | null = null;
  private controller: PoolController | null = null;
  private leading = false;

  constructor(
    /** Reads (any server). */
    private readonly store: Store,
    /** The controller's writes: the store fenced by this server's lease term. */
    private readonly controllerStore: Store,
    private readonly directory: NodeDirectory,
    private readonly events: EventBus,
  ) {}

  use(host: PoolHost): void {
    this.host = host;
    if (this.leading) this.startController();
  }

  /** This server leads: the controller runs (as soon as there is a host). */
  lead(): void {
    this.leading = true;
    this.startController();
  }

  async stepDown(): Promise<void> {
    this.leading = false;
    const controller = this.controller;
    this.controller = null;
    await controller?.close();
  }

  /** Pools with their instances, nodes and history (`name`: that one alone). */
  async views(options: { archived?: boolean; name?: string } = {}): Promise<PoolView[]> {
    const records = (await this.store.listPools()).filter((p) => options.name === undefined || p.name === options.name);
    if (records.length === 0) return [];
    const replicas = await this.store.listReplicas();
    const nodes = await this.store.listNodes();
    const cluster = await clusterId(this.store);
    return Promise.all(records.map((record) => poolView(this.store, record, nodes, replicas, cluster, options)));
  }

  private startController(): void {
    if (!this.host || this.controller) return;
    this.controller = new PoolController({ ...this.host, store: this.controllerStore, directory: this.directory, events: this.events });
    this.controller.start();
  }
}
