/**
 * One listener per service port, forwarding each connection to a ready replica in turn. A
 * replica that refuses the connection is skipped for the next one (nothing was sent yet), so a
 * replica that just died costs no client a failed connection while another is ready.
 */
import net from "node:net";

export interface Route {
  service: string;
  portName: string;
  port: number;
}

export interface RouteStatus extends Route {
  error: string | null;
}

interface Listener {
  route: Route;
  server: net.Server;
  error: string | null;
  next: number;
}

export class TcpRouter {
  private readonly listeners = new Map<number, Listener>();

  constructor(
    /** Host ports of the replicas that may take new connections for this service port now. */
    private readonly backends: (service: string, portName: string) => number[],
    private readonly host = process.env.DROVER_ROUTER_HOST ?? "127.0.0.1",
  ) {}

  /** Opens listeners for new routes and closes those no longer wanted; idempotent. */
  async sync(routes: Route[]): Promise<RouteStatus[]> {
    const wanted = new Map(routes.map((r) => [r.port, r]));
    for (const [port, listener] of this.listeners) {
      const route = wanted.get(port);
      // A listener that failed to open is retried on every sync: the port may be free by now.
      if (listener.error || !route || route.service !== listener.route.service || route.portName !== listener.route.portName) {
        listener.server.close();
        this.listeners.delete(port);
      }
    }
    await Promise.all(routes.filter((r) => !this.listeners.has(r.port)).map((r) => this.listen(r)));
    return [...this.listeners.values()].map((l) => ({ ...l.route, error: l.error }));
  }

  close(): void {
    for (const listener of this.listeners.values()) listener.server.close();
    this.listeners.clear();
  }

  private listen(route: Route): Promise<void> {
    const listener: Listener = { route, server: net.createServer((socket) => this.forward(listener, socket)), error: null, next: 0 };
    this.listeners.set(route.port, listener);
    return new Promise((resolve) => {
      listener.server.once("error", (error: NodeJS.ErrnoException) => {
        listener.error = error.code === "EADDRINUSE" ? `port ${route.port} is already in use by another program` : error.message;
        resolve();
      });
      listener.server.listen(route.port, this.host, () => resolve());
    });
  }

  private forward(listener: Listener, client: net.Socket): void {
    const candidates = this.backends(listener.route.service, listener.route.portName);
    client.on("error", () => client.destroy());
    const attempt = (tries: number) => {
      if (tries >= candidates.length) return client.destroy();
      const port = candidates[listener.next++ % candidates.length]!;
      const upstream = net.connect({ port, host: "127.0.0.1" });
      upstream.once("error", () => {
        upstream.destroy();
        attempt(tries + 1);
      });
      upstream.once("connect", () => {
        upstream.removeAllListeners("error");
        upstream.on("error", () => client.destroy());
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    attempt(0);
  }
}
