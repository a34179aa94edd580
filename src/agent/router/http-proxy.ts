/**
 * The HTTP/1.1 reverse proxy of one service port: keep-alive pools to the replicas, bodies
 * streamed both ways, upgrades (WebSocket) passed through, X-Forwarded-* added. A request that
 * could not be delivered (the replica refused the connection, or a pooled connection turned out
 * closed before anything came back for a request without a body) is tried on the next replica.
 */
import http from "node:http";
import net from "node:net";
import type { Backend } from "./backends.js";
import type { RevisionTraffic, TrafficStats } from "./traffic-stats.js";

/** Headers that describe one hop, not the message (RFC 9110 7.6.1): never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);
const RETRIABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ECONNABORTED"]);

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
  const headers = forwardHeaders(request, context.port);
  let stats: RevisionTraffic | undefined;
  // Body bytes: from Content-Length where given, else counted as they pass.
  let bytesIn = Number(request.headers["content-length"] ?? 0);
  let bytesOut = 0;
  if (hasBody && request.headers["content-length"] === undefined) request.on("data", (chunk: Buffer) => (bytesIn += chunk.length));
  const finish = (status: number, proxyError: boolean) => {
    if (!stats) return;
    context.stats.recordRequest(stats, status, performance.now() - started, proxyError);
    stats.bytesIn += bytesIn;
    stats.bytesOut += bytesOut;
    stats = undefined;
  };
  const fail = (status: number, message: string, revision: number) => {
    stats = context.stats.entry(context.service, revision);
    if (!response.headersSent) {
      response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-drover-error": "1" });
      response.end(`${message}\n`);
    } else {
      response.destroy();
    }
    finish(status, true);
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
    let responded = false;
    const upstream = http.request({ host: "127.0.0.1", port: backend.port, method: request.method, path: request.url, headers, agent: backend.agent, setHost: false });
    upstream.once("socket", (s: net.Socket) => {
      // The body goes out once there is a connection: a refused connect leaves it unread, to retry.
      const send = () => (hasBody ? request.pipe(upstream) : upstream.end());
      if (s.connecting) s.once("connect", send);
      else send();
    });
    upstream.once("response", (answer) => {
      responded = true;
      stats = context.stats.entry(context.service, backend.revision);
      const length = answer.headers["content-length"];
      if (length !== undefined) bytesOut = Number(length);
      else answer.on("data", (chunk: Buffer) => (bytesOut += chunk.length));
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer.rawHeaders));
      answer.pipe(response);
      answer.once("error", () => response.destroy());
      answer.once("end", () => release());
      response.once("close", () => {
        release();
        if (!answer.complete) upstream.destroy();
        finish(answer.statusCode ?? 502, false);
      });
    });
    upstream.once("error", (error: NodeJS.ErrnoException) => {
      release();
      if (responded) return response.destroy();
      const unsent = error.code === "ECONNREFUSED" || (!hasBody && upstream.reusedSocket && RETRIABLE.has(error.code ?? ""));
      if (unsent && !request.destroyed) return attempt(index + 1, error.code ?? error.message);
      fail(502, `replica ${backend.replica} failed: ${error.code ?? error.message}`, backend.revision);
    });
    request.once("aborted", () => upstream.destroy());
  };
  attempt(0, "");
}

/** Upgrade requests (WebSocket): the replica's answer and everything after it pass through as bytes. */
export function proxyUpgrade(context: ProxyContext, request: http.IncomingMessage, client: net.Socket, head: Buffer): void {
  const candidates = context.candidates();
  client.on("error", () => client.destroy());
  const attempt = (index: number) => {
    const backend = candidates[index];
    if (!backend) {
      client.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port: backend.port });
    upstream.once("error", () => {
      upstream.destroy();
      attempt(index + 1);
    });
    upstream.once("connect", () => {
      context.acquire(backend);
      const stats = context.stats.entry(context.service, backend.revision);
      stats.connections++;
      upstream.removeAllListeners("error");
      upstream.on("error", () => client.destroy());
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      const headers = forwardHeaders(request, context.port, true);
      for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
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
    });
  };
  attempt(0);
}

function forwardHeaders(request: http.IncomingMessage, port: number, upgrade = false): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) && !(upgrade && (lower === "upgrade" || lower === "connection"))) continue;
    if (lower.startsWith("x-forwarded-")) continue;
    const existing = headers[name];
    headers[name] = existing === undefined ? raw[i + 1]! : Array.isArray(existing) ? [...existing, raw[i + 1]!] : [String(existing), raw[i + 1]!];
  }
  const client = request.socket.remoteAddress ?? "";
  const previous = request.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = previous ? `${previous}, ${client}` : client;
  headers["x-forwarded-proto"] = request.headers["x-forwarded-proto"] ?? "http";
  headers["x-forwarded-host"] = request.headers["x-forwarded-host"] ?? request.headers.host ?? "";
  headers["x-forwarded-port"] = String(port);
  return headers;
}

function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    // Transfer-Encoding is hop-by-hop, but keeping "chunked" lets Node frame the body the same way.
    if (HOP_BY_HOP.has(lower) && lower !== "transfer-encoding") continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
