/**
 * The program a managed PostgreSQL replica runs (kind: Database, process runtime): it makes the
 * cluster in its volume on first start (initdb, password authentication over TCP, the socket
 * kept inside the volume for itself), runs `postgres` on the replica's port, then brings roles
 * and databases to what the descriptor says — creating what is missing and setting each role's
 * password from the database's secret, so a changed credential takes effect on the rollout it
 * causes. SIGTERM is a fast shutdown (active transactions rolled back, nothing lost that was
 * committed); its exit is the replica's.
 *
 * Environment: DROVER_VOLUME_DATA, PORT, HOST, DROVER_PG_VERSION (optional), DROVER_PG_SETUP
 * ({superuserPasswordEnv, users: [{name, passwordEnv}], databases: [{name, owner}]}) and the
 * password variables it names.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { postgresProgram } from "./postgres-bin.js";

export interface PostgresSetup {
  superuserPasswordEnv: string;
  users: Array<{ name: string; passwordEnv: string }>;
  databases: Array<{ name: string; owner: string }>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

/** The server this replica runs, once started: stopped before the replica gives up, so no postmaster outlives it holding the data folder's lock. */
let running: ChildProcess | null = null;

function fail(message: string): never {
  process.stderr.write(`postgres replica: ${message}\n`);
  if (running && running.exitCode === null && running.signalCode === null) {
    running.kill("SIGINT");
    // A fast shutdown takes well under a second; the replica's stop grace bounds this anyway.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && isAlive(running.pid!)) spawnSync("sleep", ["0.05"]);
  }
  process.exit(1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} postgres replica: ${message}\n`);
}

async function main(): Promise<void> {
  const volume = required("DROVER_VOLUME_DATA");
  const port = Number(required("PORT"));
  const host = process.env.HOST ?? "127.0.0.1";
  const version = process.env.DROVER_PG_VERSION || undefined;
  const setup = JSON.parse(required("DROVER_PG_SETUP")) as PostgresSetup;
  const superPassword = required(setup.superuserPasswordEnv);
  const data = path.join(volume, "pgdata");
  const sockets = path.join(volume, "run");
  fs.mkdirSync(sockets, { recursive: true, mode: 0o700 });
  // Present once roles and databases are in place: the replica's readiness probe looks for it.
  const converged = path.join(sockets, "converged");
  fs.rmSync(converged, { force: true });

  if (!fs.existsSync(path.join(data, "PG_VERSION"))) {
    log(`a new cluster in ${data}`);
    const pwfile = path.join(volume, ".pwfile");
    fs.writeFileSync(pwfile, superPassword, { mode: 0o600 });
    const init = spawnSync(postgresProgram("initdb", version), ["-D", data, "-U", "postgres", "--pwfile", pwfile, "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C.UTF-8"], { encoding: "utf8" });
    fs.rmSync(pwfile, { force: true });
    if (init.status !== 0) fail(`initdb failed: ${(init.stderr || init.stdout).trim()}`);
  }
  allowPasswordLoginFromAnywhere(data);

  const server = (running = spawn(postgresProgram("postgres", version), ["-D", data, "-p", String(port), "-h", host, "-k", sockets, "-c", "log_destination=stderr"], { stdio: ["ignore", "inherit", "inherit"] }));
  let stopping = false;
  const stop = () => {
    stopping = true;
    server.kill("SIGINT");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  server.on("exit", (code, signal) => {
    log(`postgres ended (${signal ?? `exit ${code}`})`);
    process.exit(stopping ? 0 : (code ?? 1));
  });

  // Over TCP as the superuser (the socket's peer authentication wants a matching system user name).
  const client = await connectWhenUp({ host, port, user: "postgres", password: superPassword, database: "postgres" }, server);
  try {
    await converge(client, setup);
  } finally {
    await client.end();
  }
  fs.writeFileSync(converged, "");
  log(`ready on ${host}:${port}: ${setup.databases.map((d) => d.name).join(", ") || "no databases"}`);
}

/**
 * Password logins over TCP from any address. On a node of a cluster the replica listens on the
 * node's address (where routers of other nodes reach it), and initdb's rules allow loopback only;
 * every role has a password, as in the official image. Checked on every start, for clusters made
 * before this rule.
 */
function allowPasswordLoginFromAnywhere(data: string): void {
  const hba = path.join(data, "pg_hba.conf");
  const rule = "host all all all scram-sha-256";
  const text = fs.readFileSync(hba, "utf8");
  if (!text.split("\n").some((line) => line.trim().replace(/\s+/g, " ") === rule)) fs.appendFileSync(hba, `\n# drover: password logins from the routers of every node\n${rule}\n`);
}

async function connectWhenUp(config: pg.ClientConfig, server: ReturnType<typeof spawn>): Promise<pg.Client> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (server.exitCode !== null) fail("postgres ended while starting");
    const client = new pg.Client(config);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      // Starting up, or not listening yet: again shortly. Anything else (a wrong password) is final.
      if (!/starting up|ECONNREFUSED|shutting down/.test((error as Error).message)) fail(`cannot connect: ${(error as Error).message}`);
      if (Date.now() > deadline) fail("postgres did not accept connections within 120 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Roles and databases as the descriptor says: missing ones made, passwords set; nothing dropped. */
export async function converge(client: pg.Client, setup: PostgresSetup): Promise<void> {
  const ident = (name: string) => client.escapeIdentifier(name);
  for (const user of setup.users) {
    const password = process.env[user.passwordEnv];
    if (!password) fail(`${user.passwordEnv} (the password of ${user.name}) is not set`);
    const exists = (await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user.name])).rowCount! > 0;
    await client.query(`${exists ? "ALTER" : "CREATE"} ROLE ${ident(user.name)} WITH LOGIN PASSWORD ${client.escapeLiteral(password)}`);
    if (!exists) log(`role ${user.name} created`);
  }
  for (const database of setup.databases) {
    const exists = (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database.name])).rowCount! > 0;
    if (!exists) {
      await client.query(`CREATE DATABASE ${ident(database.name)} OWNER ${ident(database.owner)}`);
      log(`database ${database.name} created, owned by ${database.owner}`);
    } else {
      await client.query(`ALTER DATABASE ${ident(database.name)} OWNER TO ${ident(database.owner)}`);
    }
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  main().catch((error: Error) => fail(error.message));
}
