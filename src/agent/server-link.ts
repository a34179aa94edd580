/**
 * The agent's side of the cluster: dials the server (outbound only, so a node behind NAT works),
 * proves itself once with a join token and then with its own credential, answers the server's
 * calls with the local agent, and reports heartbeats, replica changes and metrics. When the server
 * is away the replicas keep running and routing on the last routes; the link redials with backoff
 * and reports everything it runs when it is back.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import tls from "node:tls";
import { CALL_PARAMS, PROTOCOL_VERSION, serverMessageSchema, toWireMetrics, type AgentMessage, type CallMethod, type ServerMessage } from "../contract/wire.js";
import { WireConnection } from "../contract/connection.js";
import type { NodeReport } from "../contract/index.js";
import type { LocalAgent } from "./local-agent.js";

/** What `drover agent` keeps after joining: who it is and whom it trusts. */
export interface AgentCredential {
  node: string;
  credential: string;
  caPem: string;
  servers: string[];
}

export interface ServerLinkOptions {
  servers: Array<{ host: string; port: number }>;
  /** Used until the server gives a credential. */
  joinToken?: string;
  /** `sha256:<hex>` of the cluster CA's public key; required to join. */
  caHash?: string;
  credentialFile: string;
  report: () => Promise<NodeReport>;
  log: (line: string) => void;
  heartbeatMs?: number;
}

export const HEARTBEAT_MS = 1_000;
const REDIAL_MIN_MS = 250;
const REDIAL_MAX_MS = 5_000;
const STANDBY_REDIAL_MS = 200;
/** The server heartbeats every second: this long without a word and it is taken for gone. */
const SERVER_SILENT_MS = 5_000;
/** From dialling to the server's welcome (or refusal). */
const ANSWER_MS = 5_000;

/** Thrown when the server refuses the join itself (bad or expired token): retrying cannot help. */
export class JoinRefusedError extends Error {
  override readonly name = "JoinRefusedError";
}

export class ServerLink {
  private connection: WireConnection<ServerMessage, AgentMessage> | null = null;
  private closed = false;
  private redialMs = REDIAL_MIN_MS;
  private redialTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private lastHeardAt = 0;
  private cancelAnswerTimer: () => void = () => undefined;
  private unwatch: (() => void) | undefined;
  private readonly follows = new Map<number, () => void>();
  private seq = 0;
  private serverIndex = 0;
  private credential: AgentCredential | null;
  private welcomed = false;
  private joined: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private readonly servers: Array<{ host: string; port: number }>;

  constructor(
    private readonly agent: LocalAgent,
    private readonly options: ServerLinkOptions,
  ) {
    this.credential = readCredential(options.credentialFile);
    this.servers = [...options.servers];
    this.learnServers(this.credential?.servers ?? []);
  }

  /** Resolves once the server has welcomed the agent the first time; rejects when the join is refused. */
  start(): Promise<void> {
    if (!this.credential && (!this.options.joinToken || !this.options.caHash)) {
      return Promise.reject(new JoinRefusedError("this agent has not joined yet: give --token and --ca-hash (drover node join-token prints the line)"));
    }
    const joined = new Promise<void>((resolve, reject) => (this.joined = { resolve, reject }));
    this.dial();
    return joined;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.redialTimer);
    this.connection?.close("agent stopping");
  }

  /** Servers the leader named that this agent was not given: dialled too when the leader goes. */
  private learnServers(addresses: string[]): void {
    for (const address of addresses) {
      const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
      if (match && !this.servers.some((s) => s.host === match[1] && s.port === Number(match[2]))) this.servers.push({ host: match[1]!, port: Number(match[2]) });
    }
  }

  private dial(): void {
    if (this.closed) return;
    const server = this.servers[this.serverIndex % this.servers.length]!;
    this.serverIndex++;
    const pinned = this.credential?.caPem;
    const socket = tls.connect({
      host: server.host,
      port: server.port,
      // Joined: the saved CA, verified as usual. First time: verified by hand against the pinned hash below.
      ...(pinned ? { ca: pinned } : { rejectUnauthorized: false }),
      servername: isIp(server.host) ? undefined : server.host,
    });
    // A paused server still accepts TCP (the kernel does) but never answers: give up on it and try the next.
    const answered = setTimeout(() => socket.destroy(new Error(`no answer within ${ANSWER_MS / 1000}s`)), ANSWER_MS);
    socket.once("close", () => clearTimeout(answered));
    this.cancelAnswerTimer = () => clearTimeout(answered);
    socket.once("secureConnect", () => {
      const problem = pinned ? null : verifyPinned(socket, server.host, this.options.caHash!);
      if (problem) {
        this.options.log(`${server.host}:${server.port}: ${problem}`);
        this.joined?.reject(new JoinRefusedError(problem));
        this.joined = undefined;
        socket.destroy();
        return;
      }
      void this.hello(socket, pinned ?? pemOf(socket.getPeerCertificate(true).issuerCertificate.raw));
    });
    socket.once("error", (error) => {
      if (!this.connection) {
        this.options.log(`cannot reach ${server.host}:${server.port}: ${error.message}`);
        this.redial();
      }
    });
  }

  private async hello(socket: tls.TLSSocket, caPem: string): Promise<void> {
    const connection = new WireConnection<ServerMessage, AgentMessage>(socket, serverMessageSchema, (message) => this.receive(message, caPem));
    this.connection = connection;
    connection.onClose((reason) => this.lost(connection, reason));
    const auth = this.credential ? { credential: this.credential.credential } : { joinToken: this.options.joinToken! };
    connection.send({ type: "hello", protocol: PROTOCOL_VERSION, node: await this.options.report(), auth, replicas: await this.agent.list() });
  }

  private receive(message: ServerMessage, caPem: string): void {
    this.lastHeardAt = Date.now();
    if (message.type === "welcome" || message.type === "refused") this.cancelAnswerTimer();
    switch (message.type) {
      case "heartbeat":
        return;
      case "welcome":
        return this.welcome(message, caPem);
      case "refused":
        if (message.standby) {
          // Not the leader: on to the next address, soon (the leader may be a moment from elected).
          this.options.log(`${message.reason}; trying the next server`);
          this.redialMs = STANDBY_REDIAL_MS;
          this.connection?.close("standby server");
          return;
        }
        this.options.log(`the server refused this agent: ${message.reason}`);
        if (!this.welcomed && this.joined) {
          this.joined.reject(new JoinRefusedError(message.reason));
          this.joined = undefined;
          this.close();
        }
        return;
      case "call":
        void this.answer(message.id, message.method, message.params);
    }
  }

  private welcome(message: Extract<ServerMessage, { type: "welcome" }>, caPem: string): void {
    this.learnServers(message.servers ?? []);
    if (message.credential || (this.credential && message.servers)) {
      this.credential = { node: message.node, credential: message.credential ?? this.credential!.credential, caPem, servers: this.servers.map((s) => `${s.host}:${s.port}`) };
      writeCredential(this.options.credentialFile, this.credential);
    }
    this.welcomed = true;
    this.redialMs = REDIAL_MIN_MS;
    this.options.log(`connected to the server as node ${message.node}`);
    this.joined?.resolve();
    this.joined = undefined;
    const send = (m: AgentMessage) => this.connection?.send(m);
    this.unwatch = this.agent.watch((status) => send({ type: "replica", status }));
    this.heartbeat = setInterval(() => send({ type: "heartbeat", seq: this.seq++, at: Date.now(), freePorts: this.agent.freePorts() }), this.options.heartbeatMs ?? HEARTBEAT_MS);
    // A server that stopped answering (paused, or a network that swallows packets) is left for the next one.
    const connection = this.connection;
    this.silenceTimer = setInterval(() => {
      const silent = Date.now() - this.lastHeardAt;
      if (silent > SERVER_SILENT_MS) connection?.close(`the server said nothing for ${(silent / 1000).toFixed(1)}s`);
    }, 1_000);
    const metrics = () => send({ type: "metrics", snapshot: toWireMetrics(this.agent.metrics()), traffic: this.agent.traffic() });
    this.metricsTimer = setInterval(metrics, this.agent.metrics().intervalMs);
    metrics();
  }

  private async answer(id: number, method: CallMethod, params: unknown[]): Promise<void> {
    const parsed = CALL_PARAMS[method].safeParse(params);
    if (!parsed.success) {
      this.connection?.send({ type: "reply", id, ok: false, error: `invalid ${method} call: ${parsed.error.issues[0]!.message}` });
      return;
    }
    try {
      const result = await this.call(method, parsed.data as unknown[]);
      this.connection?.send({ type: "reply", id, ok: true, result });
    } catch (error) {
      this.connection?.send({ type: "reply", id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private async call(method: CallMethod, p: unknown[]): Promise<unknown> {
    const agent = this.agent;
    switch (method) {
      case "start":
        return agent.start(p[0] as Parameters<LocalAgent["start"]>[0]);
      case "stop":
        return agent.stop(p[0] as string, p[1] as NodeJS.Signals, p[2] as number);
      case "remove":
        return agent.remove(p[0] as string);
      case "removeVolume":
        return agent.removeVolume(p[0] as string);
      case "volumeUsage":
        return agent.volumeUsage(p[0] as string[]);
      case "prepare":
        return agent.prepare(p[0] as string, p[1] as Parameters<LocalAgent["prepare"]>[1]);
      case "usage":
        return agent.usage(p[0] as string);
      case "setRoutes":
        return agent.setRoutes(p[0] as Parameters<LocalAgent["setRoutes"]>[0]);
      case "tailLogs":
        return agent.tailLogs(p[0] as string, p[1] as number);
      case "followLogs": {
        const stream = p[1] as number;
        this.follows.set(stream, agent.followLogs(p[0] as string, (text) => this.connection?.send({ type: "log", stream, text })));
        return null;
      }
      case "unfollowLogs":
        this.follows.get(p[0] as number)?.();
        this.follows.delete(p[0] as number);
        return null;
    }
  }

  private lost(connection: WireConnection<ServerMessage, AgentMessage>, reason: string): void {
    if (this.connection !== connection) return;
    this.connection = null;
    clearInterval(this.heartbeat);
    clearInterval(this.metricsTimer);
    clearInterval(this.silenceTimer);
    this.unwatch?.();
    for (const stop of this.follows.values()) stop();
    this.follows.clear();
    if (this.welcomed) this.options.log(`lost the server (${reason}); replicas keep running and routing on the last routes`);
    this.welcomed = false;
    this.redial();
  }

  private redial(): void {
    if (this.closed) return;
    clearTimeout(this.redialTimer);
    this.redialTimer = setTimeout(() => this.dial(), this.redialMs);
    this.redialMs = Math.min(REDIAL_MAX_MS, this.redialMs * 2);
  }
}

/** Before anything is sent: the server's CA must be the pinned one, and it must have signed the server's certificate for this address. */
function verifyPinned(socket: tls.TLSSocket, host: string, pin: string): string | null {
  const chain = socket.getPeerCertificate(true);
  if (!chain?.raw || !chain.issuerCertificate?.raw) return "the server sent no certificate chain";
  const leaf = new crypto.X509Certificate(chain.raw);
  const ca = new crypto.X509Certificate(chain.issuerCertificate.raw);
  const hash = `sha256:${crypto.createHash("sha256").update(ca.publicKey.export({ type: "spki", format: "der" })).digest("hex")}`;
  if (hash !== pin) return `the server's CA (${hash}) is not the one given with --ca-hash (${pin}): refusing to send the join token`;
  if (!leaf.verify(ca.publicKey)) return "the server's certificate is not signed by its CA";
  if (!(isIp(host) ? leaf.checkIP(host) : leaf.checkHost(host))) return `the server's certificate does not name ${host} (add it with drover server --cluster-advertise)`;
  return null;
}

function pemOf(der: Buffer): string {
  return new crypto.X509Certificate(der).toString();
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

function readCredential(file: string): AgentCredential | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as AgentCredential;
  } catch {
    return null;
  }
}

function writeCredential(file: string, credential: AgentCredential): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(credential), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}
