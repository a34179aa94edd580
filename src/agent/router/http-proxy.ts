/**
 * The HTTP/1.1 reverse proxy of one service port: keep-alive pools to the replicas, bodies
 * streamed both ways, upgrades (WebSocket) passed through, X-Forwarded-* added. A request that
 * could not be delivered (the connect failed or timed out, or a pooled connection turned out
 * closed before anything came back for a request without a body) is tried on the next replica.
 */
import http from "node:http";
import net from "node:net";
import { poolOf, UNSENT_CONNECT_ERRORS, type Backend } from "./backends.js";
import { spliceToReplica } from "./splice.js";
import type { Dispatcher } from "undici";
import type { TrafficStats } from "./traffic-stats.js";

/** Headers that describe one hop, not the message (RFC 9110 7.6.1): never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

export interface ProxyContext {
  service: string;
  /** Candidates in the order to try them (the balancer's choice first); empty: none ready. */
  candidates(): Backend[];
  acquire(backend: Backend): void;
  release(backend: Backend): void;
  stats: TrafficStats;
  /** The port clients reached, for X-Forwarded-Port. */
  port: number;
}

export function proxyRequest(context: ProxyContext, request: http.IncomingMessage, response: http.ServerResponse): void {
  const started = performance.now();
  const candidates = context.candidates();
  const hasBody = request.headers["content-length"] !== undefined ? request.headers["content-length"] !== "0" : request.headers["transfer-encoding"] !== undefined;
  const headers = forwardRawHeaders(request, context.port);
  // Body bytes: from Content-Length where given, else counted as they pass.
  let bytesIn = Number(request.headers["content-length"] ?? 0);
  let bytesOut = 0;
  if (hasBody && request.headers["content-length"] === undefined) request.on("data", (chunk: Buffer) => (bytesIn += chunk.length));
  const record = (revision: number, status: number, proxyError: boolean) => {
    const stats = context.stats.entry(context.service, revision);
    context.stats.recordRequest(stats, status, performance.now() - started, proxyError);
    stats.bytesIn += bytesIn;
    stats.bytesOut += bytesOut;
  };
  const fail = (status: number, message: string, revision: number) => {
    if (!response.headersSent) {
      response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-drover-error": "1" });
      response.end(`${message}\n`);
    } else {
      response.destroy();
    }
    record(revision, status, true);
  };
  if (candidates.length === 0) return fail(503, `no ready replica of ${context.service}`, 0);

  const attempt = (index: number, lastError: string) => {
    const backend = candidates[index];
    if (!backend) return fail(502, `no replica of ${context.service} could be reached (${lastError})`, candidates[0]!.revision);
    context.acquire(backend);
    let released = false;
    const release = () => {
      if (!released) context.release(backend);
      released = true;
    };
    let status = 0;
    let controller: Dispatcher.DispatchController | undefined;
    response.once("close", () => {
      // The client went away before the answer was complete: stop the upstream request.
      if (!response.writableFinished) controller?.abort(new Error("client closed the connection"));
    });
    poolOf(backend).dispatch(
      { path: request.url ?? "/", method: request.method as Dispatcher.HttpMethod, headers, body: hasBody ? request : null },
      {
        onRequestStart(c) {
          controller = c;
        },
        onResponseStart(c, statusCode, _headers, statusMessage) {
          if (statusCode < 200 && statusCode !== 101) return; // 1xx informational: the final answer follows
          status = statusCode;
          response.writeHead(statusCode, statusMessage, responseHeaders(c.rawHeaders as Buffer[] | undefined));
        },
        onResponseData(c, chunk) {
          bytesOut += chunk.length;
          if (!response.write(chunk)) {
            c.pause();
            response.once("drain", () => c.resume());
          }
        },
        onResponseEnd() {
          response.end();
          release();
          record(backend.revision, status, false);
        },
        onResponseError(_c, error: Error & { code?: string }) {
          release();
          if (status !== 0) {
            response.destroy();
            record(backend.revision, status, false);
            return;
          }
          const code = error.code ?? "";
          // Nothing was delivered: the connect failed, or a pooled connection was found closed for a request without a body.
          const unsent = UNSENT_CONNECT_ERRORS.has(code) || (!hasBody && (code === "UND_ERR_SOCKET" || code === "ECONNRESET"));
          if (unsent && !request.destroyed && !response.destroyed) return attempt(index + 1, code);
          if (response.destroyed) return record(backend.revision, 499, false);
          fail(502, `replica ${backend.replica} failed: ${code || error.message}`, backend.revision);
        },
      },
    );
  };
  attempt(0, "");
}

/** Upgrade requests (WebSocket): the replica's answer and everything after it pass through as bytes. */
export function proxyUpgrade(context: ProxyContext, request: http.IncomingMessage, client: net.Socket, head: Buffer): void {
  spliceToReplica(context, client, context.candidates(), {
    onNone: () => client.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
    onJoined: (upstream) => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      const headers = forwardRawHeaders(request, context.port, true);
      for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) upstream.write(head);
    },
  });
}

/**
 * The request's headers as a flat [name, value, …] list without hop-by-hop ones (an upgrade keeps
 * its Upgrade and Connection), with X-Forwarded-* set by this hop.
 */
function forwardRawHeaders(request: http.IncomingMessage, port: number, upgrade = false): string[] {
  const raw = request.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) && !(upgrade && (lower === "upgrade" || lower === "connection"))) continue;
    if (lower.startsWith("x-forwarded-")) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  const client = request.socket.remoteAddress ?? "";
  const previous = request.headers["x-forwarded-for"];
  out.push(
    "x-forwarded-for", previous ? `${previous}, ${client}` : client,
    "x-forwarded-proto", String(request.headers["x-forwarded-proto"] ?? "http"),
    "x-forwarded-host", String(request.headers["x-forwarded-host"] ?? request.headers.host ?? ""),
    "x-forwarded-port", String(port),
  );
  return out;
}

/** The replica's response headers without hop-by-hop ones; Node frames the body for the client itself. */
function responseHeaders(raw: Buffer[] | undefined): string[] {
  const out: string[] = [];
  if (!raw) return out;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString("latin1");
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]!.toString("latin1"));
  }
  return out;
}
