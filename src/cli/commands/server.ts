import type { Command } from "commander";
import { apiAddress, droverHome } from "../../settings.js";
import { CliError, EXIT_USAGE } from "../client.js";
import { DEFAULT_HEARTBEATS } from "../../cluster/node-health.js";
import { parseDuration } from "../../spec/units.js";

export function registerServer(program: Command): void {
  program
    .command("server")
    .description("run the drover server (control plane and local agent) in the foreground")
    .option("--listen <host:port>", "API address (default $DROVER_ADDR or 127.0.0.1:7070)")
    .option("--tls-cert <file>", "PEM certificate: the API speaks HTTPS (default $DROVER_TLS_CERT)")
    .option("--tls-key <file>", "PEM private key for --tls-cert (default $DROVER_TLS_KEY)")
    .option("--insecure", "allow plain HTTP on an address other machines can reach (not 127.0.0.1)")
    .option("--cluster-listen <host:port>", "accept agents of other machines here (TLS with drover's own CA, made in DROVER_HOME/cluster; default $DROVER_CLUSTER_LISTEN)")
    .option("--cluster-advertise <ip>", "where agents and other nodes reach this server (default: the --cluster-listen address, or the first interface address)")
    .option("--local-node", "with --cluster-listen and a PostgreSQL store: run workloads on this machine too (its agent joins like any other; default $DROVER_LOCAL_NODE)")
    .option("--no-local-node", "with --cluster-listen: run no workloads on this machine (a control plane only; the default on PostgreSQL)")
    .option("--node-down-after <duration>", "a node without heartbeats this long is down and its replicas are replaced elsewhere", "10s")
    .option("--store <url>", "where the state lives: postgres://user:password@host:5432/db (several servers on one database; default $DROVER_STORE) or sqlite:PATH (default DROVER_HOME/drover.db)")
    .option("--lease <duration>", "with several servers: how long the leader's lease lasts without renewal (a new leader within about this)", "10s")
    .option("--lease-renew <duration>", "how often the leader renews its lease (well below --lease)", "2s")
    .addHelpText(
      "after",
      `
Stopping the server (Ctrl-C, SIGTERM, or kill -9) never stops the services it runs;
the next server re-adopts them. Use "drover down" to stop everything.

High availability: run several servers with the same --store postgres://… and the same master
key (DROVER_MASTER_KEY, or the same DROVER_HOME/master.key), each with --cluster-listen. Every
server answers the API; one leads (runs the controllers and takes the agents), the others stand
by and take over within the lease. On PostgreSQL the servers run no workloads of their own:
agents do (drover agent --server every,server,address).`,
    )
    .action(async (options: { listen?: string; tlsCert?: string; tlsKey?: string; insecure?: boolean; clusterListen?: string; clusterAdvertise?: string; localNode?: boolean; nodeDownAfter: string; store?: string; lease: string; leaseRenew: string }) => {
      const { host, port } = apiAddress(options.listen ? { ...process.env, DROVER_ADDR: options.listen } : process.env);
      const home = droverHome();
      let closing = false;
      // Loaded here, not at the top: every other command would pay for the server's modules.
      const { startDaemon } = await import("../../daemon.js");
      const cert = options.tlsCert ?? process.env.DROVER_TLS_CERT;
      const key = options.tlsKey ?? process.env.DROVER_TLS_KEY;
      if (Boolean(cert) !== Boolean(key)) throw new CliError("TLS needs both a certificate and a key (--tls-cert and --tls-key)", EXIT_USAGE);
      options.clusterListen ??= process.env.DROVER_CLUSTER_LISTEN || undefined;
      if (options.localNode === undefined && process.env.DROVER_LOCAL_NODE) options.localNode = !/^(0|false|no)$/i.test(process.env.DROVER_LOCAL_NODE);
      const cluster = options.clusterListen ? clusterOptions(options) : undefined;
      if (options.localNode && !cluster) throw new CliError("--local-node needs --cluster-listen: the node's agent joins through it", EXIT_USAGE);
      const lease = leaseSettings(options.lease, options.leaseRenew);
      const store = options.store ?? (process.env.DROVER_STORE || undefined);
      const daemon = await startDaemon({ home, host, port, tls: cert && key ? { cert, key } : undefined, insecure: options.insecure, cluster, store, lease, onShutdown: () => void shutdown("shutdown requested") });
      process.stdout.write(`drover server listening on ${daemon.url} (DROVER_HOME ${home})\n`);
      process.stdout.write(`  store ${daemon.controlPlane.store.description.dialect} ${daemon.controlPlane.store.description.location}; ${daemon.leadership.leading ? "leading" : "standing by"} as ${daemon.leadership.id}\n`);
      if (daemon.cluster) process.stdout.write(`  accepting agents on ${daemon.cluster.url} (CA ${daemon.cluster.caHash}); drover node join-token prints the line to run\n`);
      const info = daemon.controlPlane.agent.info();
      for (const detail of info.details) process.stdout.write(`  ${detail}\n`);
      async function shutdown(why: string) {
        if (closing) return;
        closing = true;
        process.stdout.write(`drover server stopping (${why}); services keep running\n`);
        await daemon.close();
        process.exit(0);
      }
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
    });
}

function clusterOptions(options: { clusterListen?: string; clusterAdvertise?: string; localNode?: boolean; nodeDownAfter: string }): import("../../daemon.js").ClusterOptions {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(options.clusterListen ?? "");
  if (!match || Number(match[2]) > 65535) throw new CliError(`--cluster-listen ${options.clusterListen}: expected host:port, e.g. 0.0.0.0:7443`, EXIT_USAGE);
  let downAfterMs: number;
  try {
    downAfterMs = parseDuration(options.nodeDownAfter);
  } catch (error) {
    throw new CliError(`--node-down-after: ${(error as Error).message}`, EXIT_USAGE);
  }
  if (downAfterMs < 4_000) throw new CliError("--node-down-after: at least 4s (a node is not ready after 3s without heartbeats, down only later)", EXIT_USAGE);
  return {
    listen: { host: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]) },
    advertise: options.clusterAdvertise,
    localNode: options.localNode,
    heartbeats: { ...DEFAULT_HEARTBEATS, downAfterMs },
  };
}

function leaseSettings(lease: string, renew: string): import("../../server/leadership.js").LeaseSettings {
  const parse = (flag: string, text: string) => {
    try {
      return parseDuration(text);
    } catch (error) {
      throw new CliError(`${flag}: ${(error as Error).message}`, EXIT_USAGE);
    }
  };
  const settings = { leaseMs: parse("--lease", lease), renewMs: parse("--lease-renew", renew) };
  if (settings.leaseMs < 2_000) throw new CliError("--lease: at least 2s", EXIT_USAGE);
  if (settings.renewMs * 2 > settings.leaseMs) throw new CliError(`--lease-renew ${renew}: at most half of --lease (${lease}), so a missed renewal is not the end of the lease`, EXIT_USAGE);
  return settings;
}
