/**
 * A real PostgreSQL for tests: its own cluster (initdb into a temp folder, a free port, trust on
 * loopback, no fsync), started as a child of the test and removed at the end, so nothing depends
 * on a system service. As root it runs as the `postgres` user (PostgreSQL refuses root).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort, waitFor } from "./harness.js";
import { postgresProgram } from "../src/databases/postgres-bin.js";

/** Where initdb and postgres are: the product's own lookup (Debian's versioned folders, else PATH). */
export function postgresBin(name: "initdb" | "postgres"): string {
  return postgresProgram(name);
}

/** The rows a statement returns, on a connection of its own (a URL, or the client's settings). */
export async function queryRows(connection: string | pg.ClientConfig, sql: string): Promise<unknown[]> {
  const client = new pg.Client(typeof connection === "string" ? { connectionString: connection } : connection);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

let shared: Promise<TestPostgres> | undefined;

/** One PostgreSQL per test process, started on first use and gone when the process ends. */
export function sharedPostgres(): Promise<TestPostgres> {
  shared ??= TestPostgres.start();
  return shared;
}

export class TestPostgres {
  private process: ChildProcess | null = null;
  private databases = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly owner: { uid: number; gid: number } | null,
    /** fsync on, as a real deployment runs (benchmarks); tests trade durability for speed. */
    private readonly durable: boolean,
    /** The superuser's password when connections over TCP need one. */
    readonly password: string | undefined,
  ) {}

  /** `password`: TCP connections authenticate with it (scram-sha-256); otherwise they are trusted. */
  static async start(options: { durable?: boolean; password?: string } = {}): Promise<TestPostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-pg-"));
    const owner = process.getuid?.() === 0 ? userIds("postgres") : null;
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
    const data = path.join(dir, "data");
    const auth = ["--auth=trust"];
    if (options.password) {
      const pwfile = path.join(dir, "pwfile");
      fs.writeFileSync(pwfile, `${options.password}\n`);
      if (owner) fs.chownSync(pwfile, owner.uid, owner.gid);
      auth.splice(0, 1, "--auth-local=trust", "--auth-host=scram-sha-256", `--pwfile=${pwfile}`);
    }
    const init = spawnSync(postgresBin("initdb"), ["-D", data, "-U", "postgres", ...auth, "--no-sync", "-E", "UTF8", "--locale=C"], { encoding: "utf8", ...(owner ?? {}) });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const server = new TestPostgres(dir, await freePort(), owner, options.durable ?? false, options.password);
    await server.resume();
    return server;
  }

  /** A URL for `user` (default the superuser) on `database`. */
  url(database = "postgres", user = "postgres", password = this.password): string {
    return `postgres://${user}${password ? `:${password}` : ""}@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database: one per store under test, so tests sharing this server never meet. */
  async createDatabase(): Promise<string> {
    const name = `drover_${process.pid}_${++this.databases}`;
    await this.sql(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  async sql(text: string, database = "postgres"): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  }

  /** Starts the server (again, after `stop`) and waits until it takes connections. */
  async resume(): Promise<void> {
    const fast = this.durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
    const options = ["-D", path.join(this.dir, "data"), "-p", String(this.port), "-k", this.dir, "-c", "listen_addresses=127.0.0.1", ...fast, "-c", "max_connections=200"];
    const child = spawn(postgresBin("postgres"), options, { stdio: ["ignore", "ignore", "pipe"], ...(this.owner ?? {}) });
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    this.process = child;
    // It does not keep the test process alive: the exit hook below ends it.
    child.unref();
    (child.stderr as unknown as { unref(): void }).unref();
    // A test process that dies takes its database server and its files with it; a runner that
    // ends it on a timeout sends SIGTERM, which skips exit handlers unless it exits by itself.
    for (const signal of ["SIGTERM", "SIGINT"] as const) if (process.listenerCount(signal) === 0) process.once(signal, () => process.exit(1));
    process.once("exit", () => {
      child.kill("SIGKILL");
      fs.rmSync(this.dir, { recursive: true, force: true });
    });
    await waitFor(`PostgreSQL on port ${this.port} (log: ${log})`, async () => {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      return this.sql("SELECT 1").then(() => true, () => false);
    }, 30_000, 100);
  }

  /** Stops the server (a fast shutdown: connections are cut, as in a restart). */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    this.process = null;
    // Waited for: it holds the event loop again until it has gone.
    child.ref();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const out = spawnSync("id", [name], { encoding: "utf8" }).stdout;
  const uid = /uid=(\d+)/.exec(out)?.[1];
  const gid = /gid=(\d+)/.exec(out)?.[1];
  if (!uid || !gid) throw new Error(`PostgreSQL will not run as root and there is no "${name}" user to run it as`);
  return { uid: Number(uid), gid: Number(gid) };
}
