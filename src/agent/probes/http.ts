import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import type { ProbeOutcome } from "../../contract/index.js";

/** Shared agents that never keep a connection: each probe opens its own, without building an agent per run. */
const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false, rejectUnauthorized: false });

export interface HttpTarget {
  host?: string;
  port: number;
  path: string;
  scheme: "http" | "https";
  headers: Record<string, string>;
}

/**
 * One GET on a fresh connection (as Kubernetes probes do, so a wedged keep-alive socket cannot
 * hide a dead server); 2xx and 3xx pass. Certificates are not verified: the probe asks whether
 * the replica answers, not who it is. The verdict comes with the status line; the body is not read.
 */
export function httpGet(target: HttpTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ok, message, latencyMs: Math.round((performance.now() - started) * 10) / 10 });
    };
    const client = target.scheme === "https" ? https : http;
    const request = client.request({
      host: target.host ?? "127.0.0.1",
      port: target.port,
      path: target.path,
      method: "GET",
      headers: { "user-agent": "drover-probe", ...target.headers },
      agent: target.scheme === "https" ? httpsAgent : httpAgent,
    });
    const timer = setTimeout(() => finish(false, `no answer within ${timeoutMs}ms`), timeoutMs);
    request.once("response", (response) => {
      const status = response.statusCode ?? 0;
      finish(status >= 200 && status < 400, `HTTP ${status}`);
    });
    request.once("error", (error: NodeJS.ErrnoException) => finish(false, connectionError(error)));
    request.end();
  });
}

export function connectionError(error: NodeJS.ErrnoException): string {
  if (error.code === "ECONNREFUSED") return "connection refused";
  if (error.code === "ECONNRESET") return "connection reset";
  return error.message;
}
