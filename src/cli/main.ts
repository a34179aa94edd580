#!/usr/bin/env -S node --max-semi-space-size=1
/** The drover command line. Every command talks to the server through the HTTP API. */
import { VERSION } from "../version.js";
import { Command, CommanderError } from "commander";
import { CliError, EXIT_FAILURE, EXIT_USAGE } from "./client.js";
import { registerApply } from "./commands/apply.js";
import { registerDescribe } from "./commands/describe.js";
import { registerStore } from "./commands/store.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerDown } from "./commands/down.js";
import { registerEvents } from "./commands/events.js";
import { registerGet } from "./commands/get.js";
import { registerHistory } from "./commands/history.js";
import { registerLifecycle } from "./commands/lifecycle.js";
import { registerLogs } from "./commands/logs.js";
import { registerRollout } from "./commands/rollout.js";
import { registerScale } from "./commands/scale.js";
import { registerServer } from "./commands/server.js";
import { registerTop } from "./commands/top.js";
import { registerAutoscale } from "./commands/autoscale.js";
import { registerSecurity } from "./commands/security.js";
import { registerPolicy } from "./commands/policy.js";
import { registerDashboard } from "./commands/dashboard.js";
import { registerUp } from "./commands/up.js";
import { registerValidate } from "./commands/validate.js";
import { registerAgent } from "./commands/agent.js";
import { registerNode } from "./commands/node.js";
import { registerJob } from "./commands/job.js";
import { registerVolume } from "./commands/volume.js";
import { registerDb } from "./commands/db.js";
import { registerPool } from "./commands/pool.js";
import { color } from "./output.js";
import { printIssues } from "./plan-output.js";

const program = new Command("drover")
  .description("deploy services from one YAML descriptor, keep them running, and heal them")
  .version(VERSION)
  .exitOverride()
  .showSuggestionAfterError()
  .addHelpText(
    "after",
    `
Environment:
  DROVER_HOME        state folder: database, replica logs (default ~/.drover)
  DROVER_ADDR        API address host:port (default 127.0.0.1:7070)
  DROVER_TOKEN       API token (default: read from $DROVER_HOME/api.token)
  DROVER_MASTER_KEY  the key secrets are encrypted with, 32 bytes base64 or hex (default: $DROVER_HOME/master.key)
  DROVER_METRICS_OPEN  "1": /metrics answers without a token
  DROVER_TLS_CERT, DROVER_TLS_KEY  PEM files: the server speaks HTTPS (clients: DROVER_ADDR=https://HOST:PORT)
  DROVER_CA_CERT     a certificate the CLI trusts for HTTPS (a self-signed server)
  DROVER_SNAPSHOTS_KEPT  store snapshots kept in $DROVER_HOME/backups (default 10)
  DROVER_PORT_RANGE  host ports for replicas, FROM-TO (default 20000-29999)
  DROVER_ROUTER_HOST address service ports listen on (default 127.0.0.1; 0.0.0.0 for agents and clustered servers)
  DROVER_VOLUMES_DIR where volumes live (default /var/lib/drover/volumes when root, else DROVER_HOME/agent/volumes)
  DROVER_ROUTER_KERNEL  "off": tcp ports forwarded by drover, not by kernel DNAT rules
  DROVER_LOG_MAX_BYTES  a replica log is rotated past this size (default 10 MiB)
  DROVER_CGROUPS     "off" to run without cgroups even where they are writable
  DROVER_METRICS_INTERVAL_MS  how often host and replicas are sampled (default 5000)
  DROVER_ENERGY_MIN_WATTS_PER_CPU, DROVER_ENERGY_MAX_WATTS_PER_CPU, DROVER_ENERGY_WATTS_PER_GB
                     the energy model's coefficients (defaults 0.74, 3.5, 0.392)
  DOCKER_HOST        the Docker Engine for runtime docker (default unix:///var/run/docker.sock)
  DROVER_DOCKER_PULL_IDLE_MS  an image pull without progress this long is abandoned (default 30000)
  NO_COLOR           plain output

Exit codes: 0 ok, 1 failure, 2 bad input (descriptor, arguments, unknown service).`,
  );

for (const register of [registerUp, registerServer, registerApply, registerValidate, registerGet, registerDescribe, registerLogs, registerScale, registerLifecycle, registerHistory, registerRollout, registerAutoscale, registerEvents, registerTop, registerSecurity, registerPolicy, registerDashboard, registerNode, registerPool, registerJob, registerVolume, registerDb, registerAgent, registerStore, registerDown, registerDoctor]) {
  register(program);
}
for (const command of program.commands) command.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has printed the usage problem (or the help/version it was asked for) already
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof CliError) {
    if (error.issues.length) printIssues(error.issues);
    else process.stderr.write(`${color.red("error:")} ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`${color.red("error:")} ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.DROVER_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
  return EXIT_FAILURE;
}
