/**
 * One listener per service port: an HTTP reverse proxy (`protocol: http`, the default) or a
 * byte-for-byte TCP forwarder (`protocol: tcp`). Membership follows readiness: the agent says
 * which replicas may take new work; a replica being stopped is drained first.
 */
import http from "node:http";
import net from "node:net";
import { Balancer, BackendPool, httpClientLoaded, loadHttpClient, type Backend } from "./backends.js";
import { proxyRequest, proxyUpgrade, type ProxyContext } from "./http-proxy.js";
import type { KernelRoute, KernelTcp } from "./kernel-tcp.js";
import { spliceToReplica } from "./splice.js";
import { TrafficStats } from "./traffic-stats.js";
import type { BackendTarget, Route, RouteStatus, ServiceTraffic } from "../../contract/index.js";


interface Listener {
  route: Route;
  server: net.Server;
  error: string | null;
  balancer: Balancer;
  /** Open client connections of a tcp listener, to end on close. */
  connections: Set<net.Socket>;
  /** The agent's target list last seen (it hands out the same array until something changes) and its backends. */
  targets?: BackendTarget[];
  backends?: Backend[];
}

export class Router {
  private readonly listeners = new Map<number, Listener>();
  private readonly pool = new BackendPool();
  readonly stats = new TrafficStats();

  private kernelUpdate: NodeJS.Immediate | undefined;

  constructor(
    /** The replica ports that may take new work for this service port now. */
    private readonly targets: (service: string, portName: string) => BackendTarget[],
    private readonly host = routerHost(),
    /** Where available, tcp ports are balanced by the kernel instead of passing through drover. */
    private readonly kernel: KernelTcp | null = null,
  ) {}

  /** The agent's ready set changed: tcp ports balanced by the kernel follow it. */
  membershipChanged(): void {
    if (!this.kernel || this.kernelUpdate) return;
    this.kernelUpdate = setImmediate(() => {
      this.kernelUpdate = undefined;
      void this.kernel?.apply(this.kernelRoutes());
    });
  }

  /** Opens listeners for new routes, updates weights in place, closes those no longer wanted; idempotent. */
  async sync(routes: Route[]): Promise<RouteStatus[]> {
    const wanted = new Map(routes.map((r) => [r.port, r]));
    for (const [port, listener] of this.listeners) {
      const route = wanted.get(port);
      const same = route && route.service === listener.route.service && route.portName === listener.route.portName && route.protocol === listener.route.protocol && route.algorithm === listener.route.algorithm && Boolean(route.loopbackOnly) === Boolean(listener.route.loopbackOnly);
      // A listener that failed to open is retried on every sync: the port may be free by now.
      if (listener.error || !same) {
        closeListener(listener);
        this.listeners.delete(port);
      } else {
        listener.route = route;
      }
    }
    await Promise.all(routes.filter((r) => !this.listeners.has(r.port)).map((r) => this.listen(r)));
    const services = new Set(routes.map((r) => r.service));
    for (const traffic of this.stats.snapshot()) if (!services.has(traffic.service)) this.stats.forget(traffic.service);
    await this.kernel?.apply(this.kernelRoutes());
    return [...this.listeners.values()].map((l) => ({ ...l.route, error: l.error }));
  }

  /** Waits until the replica has nothing in flight (at most `timeoutMs`), then closes its pooled connections. */
  drain(replica: string, timeoutMs: number): Promise<void> {
    return this.pool.drain(replica, timeoutMs);
  }

  traffic(service?: string): ServiceTraffic[] {
    return this.stats.snapshot(service);
  }

  close(): void {
    clearImmediate(this.kernelUpdate);
    this.kernel?.close();
    for (const listener of this.listeners.values()) closeListener(listener, true);
    this.listeners.clear();
    this.pool.close();
  }

  /** Each tcp port's ready replicas with their share: the revision's weight split among its replicas. */
  private kernelRoutes(): KernelRoute[] {
    const routes: KernelRoute[] = [];
    for (const listener of this.listeners.values()) {
      if (listener.route.protocol !== "tcp" || listener.error) continue;
      const targets = this.targets(listener.route.service, listener.route.portName);
      const weights = listener.route.weights;
      const perRevision = new Map<number, number>();
      for (const t of targets) perRevision.set(t.revision, (perRevision.get(t.revision) ?? 0) + 1);
      let backends = targets.map((t) => ({ port: t.hostPort, share: weights ? (weights[t.revision] ?? 0) / perRevision.get(t.revision)! : 1 }));
      if (backends.every((b) => b.share === 0)) backends = backends.map((b) => ({ ...b, share: 1 }));
      routes.push({ port: listener.route.port, backends, loopbackOnly: Boolean(listener.route.loopbackOnly) });
    }
    return routes;
  }

  private candidates(listener: Listener): Backend[] {
    const targets = this.targets(listener.route.service, listener.route.portName);
    if (targets !== listener.targets) {
      listener.targets = targets;
      listener.backends = targets.map((t) => this.pool.get(t));
    }
    return listener.balancer.order(listener.backends!, listener.route.weights);
  }

  private listen(route: Route): Promise<void> {
    const balancer = new Balancer(route.algorithm);
    const listener: Listener = { route, server: undefined as unknown as net.Server, error: null, balancer, connections: new Set() };
    const context: ProxyContext = {
      service: route.service,
      port: route.port,
      candidates: () => this.candidates(listener),
      acquire: (backend) => backend.inflight++,
      release: (backend) => this.pool.release(backend),
      stats: this.stats,
    };
    if (route.protocol === "tcp") {
      listener.server = net.createServer({ noDelay: true }, (socket) => {
        listener.connections.add(socket);
        socket.once("close", () => listener.connections.delete(socket));
        forwardTcp(context, socket);
      });
    } else {
      const server = http.createServer({ noDelay: true, keepAliveTimeout: 5_000 }, (request, response) => {
        if (httpClientLoaded()) return proxyRequest(context, request, response);
        void loadHttpClient().then(() => proxyRequest(context, request, response));
      });
      server.on("upgrade", (request, socket: net.Socket, head: Buffer) => proxyUpgrade(context, request, socket, head));
      server.on("clientError", (_error, socket: net.Socket) => {
        if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
        else socket.destroy();
      });
      listener.server = server;
    }
    this.listeners.set(route.port, listener);
    return new Promise((resolve) => {
      listener.server.once("error", (error: NodeJS.ErrnoException) => {
        listener.error = error.code === "EADDRINUSE" ? `port ${route.port} is already in use by another program` : error.message;
        resolve();
      });
      listener.server.listen(route.port, route.loopbackOnly ? "127.0.0.1" : this.host, () => resolve());
    });
  }
}

export function routerHost(): string {
  return process.env.DROVER_ROUTER_HOST ?? "127.0.0.1";
}

/** Stops listening; idle keep-alive connections go now, busy ones after their request (or at once, `all`). */
function closeListener(listener: Listener, all = false): void {
  const server = listener.server;
  server.close();
  if (server instanceof http.Server) {
    if (all) server.closeAllConnections();
    else server.closeIdleConnections();
  } else if (all) {
    for (const socket of listener.connections) socket.destroy();
  }
}

/** `protocol: tcp`: each connection goes to one replica, chosen as for HTTP; a refused connect tries the next. */
function forwardTcp(context: ProxyContext, client: net.Socket): void {
  spliceToReplica(context, client, context.candidates(), { onNone: () => client.destroy() });
}
