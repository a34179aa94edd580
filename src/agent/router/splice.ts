/**
 * Joins a client connection to a replica byte for byte: the next candidate is tried when one
 * refuses the connection or does not connect in time; once joined, both directions are piped and the connection is counted
 * (and released for draining) when either side closes. For tcp ports and HTTP upgrades.
 */
import net from "node:net";
import { CONNECT_TIMEOUT_MS, type Backend } from "./backends.js";
import type { ProxyContext } from "./http-proxy.js";

export function spliceToReplica(
  context: ProxyContext,
  client: net.Socket,
  candidates: Backend[],
  options: { onNone: () => void; onJoined?: (upstream: net.Socket) => void },
): void {
  client.on("error", () => client.destroy());
  const attempt = (index: number) => {
    const backend = candidates[index];
    if (!backend) return options.onNone();
    const upstream = net.connect({ port: backend.port, host: backend.host, noDelay: true });
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error("connect timed out")));
    upstream.once("error", () => {
      upstream.destroy();
      attempt(index + 1);
    });
    upstream.once("connect", () => {
      upstream.setTimeout(0);
      context.acquire(backend);
      const stats = context.stats.entry(context.service, backend.revision);
      stats.connections++;
      upstream.removeAllListeners("error");
      upstream.on("error", () => client.destroy());
      options.onJoined?.(upstream);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        stats.bytesIn += client.bytesRead;
        stats.bytesOut += client.bytesWritten;
        context.release(backend);
        client.destroy();
        upstream.destroy();
      };
      client.once("close", close);
      upstream.once("close", close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  };
  attempt(0);
}
