/**
 * Where agents dial in (`drover server --cluster-listen`): TLS always, with the cluster CA's
 * server certificate. An agent's first message must be a valid `hello` within a few seconds;
 * one with a wrong or expired join token, an unknown or revoked credential, or another protocol
 * version is refused, logged, and nothing is registered. An accepted agent becomes a
 * RemoteAgent in the fleet.
 */
import tls from "node:tls";
import { WireConnection } from "../contract/connection.js";
import { agentMessageSchema, PROTOCOL_VERSION, type AgentMessage, type ServerMessage } from "../contract/wire.js";
import type { Store } from "../store/store.js";
import type { Fleet } from "./fleet.js";
import { credentialHash, joinTokenProblem, newNodeCredential } from "./join-tokens.js";
import type { ClusterPki } from "./pki.js";
import { RemoteAgent } from "./remote-agent.js";

const HELLO_TIMEOUT_MS = 10_000;
/** How often a connected agent hears from the server even when there is nothing to say. */
const SERVER_HEARTBEAT_MS = 1_000;

export interface ClusterListenerOptions {
  host: string;
  port: number;
  pki: ClusterPki;
  fleet: Fleet;
  store: Store;
  /** Every server's cluster address (for the agents' failover list); the leader's, when known, for a standby's refusal. */
  servers?: () => Promise<{ all: string[]; leader: string | null }>;
  log: (level: "info" | "warn", message: string, fields?: Record<string, unknown>) => void;
}

export class ClusterListener {
  private readonly sockets = new Set<tls.TLSSocket>();

  private constructor(
    private readonly server: tls.Server,
    private readonly options: ClusterListenerOptions,
  ) {}

  static start(options: ClusterListenerOptions): Promise<ClusterListener> {
    const server = tls.createServer({ cert: options.pki.certPem + options.pki.caPem, key: options.pki.keyPem, minVersion: "TLSv1.2" });
    const listener = new ClusterListener(server, options);
    server.on("secureConnection", (socket) => listener.accept(socket));
    // A failed handshake (a client that does not trust the CA, plain TCP) is the client's business.
    server.on("tlsClientError", () => undefined);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve(listener);
      });
    });
  }

  get address(): { host: string; port: number } {
    const address = this.server.address() as { address: string; port: number };
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let remote: RemoteAgent | null = null;
    let node: string | null = null;
    /** Sent on to the leader (this server stands by): its closing is no news. */
    let sentOn = false;
    const timer = setTimeout(() => connection.close("no hello in time"), HELLO_TIMEOUT_MS);
    const connection = new WireConnection<AgentMessage, ServerMessage>(socket, agentMessageSchema, (message) => {
      if (remote) {
        if (message.type === "heartbeat") this.options.fleet.heartbeat(node!, message.freePorts);
        else if (message.type === "hello") connection.close("a second hello");
        else remote.receive(message);
        return;
      }
      if (message.type !== "hello") return connection.close(`expected hello, got ${message.type}`);
      clearTimeout(timer);
      // Accepted before the welcome is sent: the agent's first messages must find it.
      const accepted = (agent: RemoteAgent, name: string) => ((remote = agent), (node = name));
      if (!this.options.fleet.active) sentOn = true;
      void this.hello(connection, message, peer, accepted).catch((error: Error) => connection.close(error.message));
    });
    connection.onClose((reason) => {
      clearTimeout(timer);
      if (remote && node) {
        this.options.fleet.detach(node, remote);
        this.options.log("warn", `node ${node} disconnected: ${reason}`, { node, peer });
      } else if (reason !== "connection closed" && !sentOn) {
        this.options.log("warn", `agent connection from ${peer} dropped: ${reason}`, { peer });
      }
    });
  }

  private async hello(connection: WireConnection<AgentMessage, ServerMessage>, hello: Extract<AgentMessage, { type: "hello" }>, peer: string, accepted: (remote: RemoteAgent, node: string) => void): Promise<void> {
    const { fleet, store, log } = this.options;
    const refuse = (reason: string) => {
      log("warn", `refused an agent from ${peer} (node ${hello.node.name}): ${reason}`, { peer, node: hello.node.name });
      connection.send({ type: "refused", reason });
      connection.socket.end();
    };
    if (hello.protocol !== PROTOCOL_VERSION) return refuse(`protocol ${hello.protocol} is not this server's (${PROTOCOL_VERSION}): run the same drover version on server and agents`);
    if (!fleet.active) {
      // Agents belong to the leader: a standby sends them on, checking nothing (the leader checks their tokens).
      const leader = (await this.options.servers?.().catch(() => null))?.leader;
      connection.send({ type: "refused", standby: true, reason: `this server is a standby${leader ? `; the leader is at ${leader}` : ""}` });
      connection.socket.end();
      return;
    }
    let credential: string | undefined;
    let hash: string;
    let name = hello.node.name;
    if ("joinToken" in hello.auth) {
      const problem = await joinTokenProblem(store, hello.auth.joinToken);
      if (problem) return refuse(problem);
      if (name === fleet.node || fleet.nodes().some((n) => n.name === name)) return refuse(`a node named ${name} exists already: give this one another --name, or remove the old one (drover node rm ${name})`);
      ({ credential, hash } = newNodeCredential());
    } else {
      hash = credentialHash(hello.auth.credential);
      const known = await store.findNodeByCredential(hash);
      if (!known) return refuse("unknown or revoked node credential: join again with a new token");
      // The credential names the node, whatever the agent calls itself now.
      name = known.name;
    }
    const report = { ...hello.node, name };
    await fleet.register(report, hash);
    const remote = new RemoteAgent(connection, report, hello.replicas);
    accepted(remote, name);
    const servers = (await this.options.servers?.().catch(() => null))?.all;
    connection.send({ type: "welcome", protocol: PROTOCOL_VERSION, node: name, ...(credential ? { credential } : {}), ...(servers?.length ? { servers } : {}) });
    fleet.attach(name, remote);
    const beat = setInterval(() => connection.send({ type: "heartbeat", at: Date.now() }), SERVER_HEARTBEAT_MS).unref();
    connection.onClose(() => clearInterval(beat));
    log("info", `node ${name} connected from ${peer}${credential ? " (joined)" : ""}`, { node: name, peer });
  }
}
