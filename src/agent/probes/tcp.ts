import net from "node:net";
import { performance } from "node:perf_hooks";
import { connectionError } from "./http.js";
import type { ProbeOutcome } from "../../contract/index.js";

/** Whether a TCP connection to host:port is accepted within `timeoutMs`. */
export async function tcpConnects(port: number, timeoutMs: number, host = "127.0.0.1"): Promise<boolean> {
  return (await tcpProbe(port, timeoutMs, host)).ok;
}

/** A connection is opened and closed at once; accepted within the timeout passes. */
export function tcpProbe(port: number, timeoutMs: number, host = "127.0.0.1"): Promise<ProbeOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean, message: string) => {
      socket.destroy();
      resolve({ ok, message, latencyMs: Math.round((performance.now() - started) * 10) / 10 });
    };
    socket.setTimeout(timeoutMs, () => done(false, `not accepted within ${timeoutMs}ms`));
    socket.once("connect", () => done(true, "connection accepted"));
    socket.once("error", (error: NodeJS.ErrnoException) => done(false, connectionError(error)));
  });
}
