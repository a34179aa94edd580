/**
 * Runs a real drover server and CLI for integration tests: a temporary DROVER_HOME, a free API
 * port, and a cleanup that leaves no process behind (drover down, then a kill of any replica
 * process group still recorded in the agent's state files).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { volumesRoot } from "../src/agent/volumes.js";
import { KernelTcp } from "../src/agent/router/kernel-tcp.js";
import { homeTag } from "../src/agent/drivers/docker/container-config.js";
import type { EventRecord, ReplicaRecord } from "../src/contract/index.js";
import { SERVER_NODE_FLAGS } from "../src/cli/server-process.js";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(REPO, "dist/src/cli/main.js");
export const HELLO = path.join(REPO, "examples/hello");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a truthy value; fails with `what` after the deadline. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Drover {
  readonly env: NodeJS.ProcessEnv;
  server: ChildProcess | undefined;

  private constructor(readonly home: string, readonly apiPort: number) {
    this.env = { ...process.env, DROVER_HOME: home, DROVER_ADDR: `127.0.0.1:${apiPort}`, NO_COLOR: "1" };
  }

  static async create(): Promise<Drover> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "drover-test-"));
    const drover = new Drover(home, await freePort());
    if (process.env.DROVER_TEST_STORE === "postgres") await drover.usePostgres();
    return drover;
  }

  /**
   * The suite on PostgreSQL (DROVER_TEST_STORE=postgres): a database of its own on this test
   * file's PostgreSQL, and the server's own node joining over a cluster port, as in production.
   */
  private async usePostgres(): Promise<void> {
    const { sharedPostgres } = await import("./postgres-harness.js");
    this.env.DROVER_STORE = await (await sharedPostgres()).createDatabase();
    this.env.DROVER_CLUSTER_LISTEN = `127.0.0.1:${await freePort()}`;
    this.env.DROVER_LOCAL_NODE = "1";
  }

  /** A harness with its server already running. */
  static async started(): Promise<Drover> {
    const drover = await Drover.create();
    try {
      await drover.startServer();
    } catch (error) {
      await drover.cleanup();
      throw error;
    }
    return drover;
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** Starts `drover server` as a child of the test, and waits for its API. */
  async startServer(): Promise<void> {
    const log = fs.openSync(path.join(this.home, "server.log"), "a");
    this.server = spawn(process.execPath, [...SERVER_NODE_FLAGS, CLI, "server"], { env: this.env, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    await waitFor("the drover server to answer", () => this.healthy());
  }

  async healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/api/v1/health`)).ok;
    } catch {
      return false;
    }
  }

  /** Kills the server the hard way (kill -9), whoever started it. */
  async killServer(): Promise<void> {
    const info = JSON.parse(fs.readFileSync(path.join(this.home, "server.json"), "utf8")) as { pid: number };
    process.kill(info.pid, "SIGKILL");
    await waitFor("the server to die", async () => !(await this.healthy()));
  }

  run(args: string[], options: { input?: string; cwd?: string } = {}): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: this.env, cwd: options.cwd ?? REPO });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.stdin.end(options.input ?? "");
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  async json<T>(args: string[]): Promise<T> {
    const result = await this.run([...args, "-o", "json"]);
    if (result.code !== 0) throw new Error(`drover ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  /** `drover ps SERVICE` as records. */
  replicasOf(service: string): Promise<ReplicaRecord[]> {
    return this.json<ReplicaRecord[]>(["ps", service]);
  }

  /** The service's events (up to 1000), oldest first, through the CLI. */
  eventsOf(service: string): Promise<EventRecord[]> {
    return this.json<EventRecord[]>(["events", "-s", service, "-n", "1000"]);
  }

  /** Headers that authenticate a direct API call (the CLI reads the same token file). */
  authorization(): Record<string, string> {
    return { authorization: `Bearer ${fs.readFileSync(path.join(this.home, "api.token"), "utf8").trim()}` };
  }

  async api<T>(route: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${route}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...this.authorization() } });
    return { status: response.status, body: (await response.json()) as T };
  }

  /**
   * Runs SQL on the server's store around drover (to plant or tamper with rows): `?` placeholders,
   * on SQLite in DROVER_HOME or on the test's PostgreSQL database.
   */
  async sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    if (this.env.DROVER_STORE) {
      const { default: pg } = await import("pg");
      const client = new pg.Client({ connectionString: this.env.DROVER_STORE });
      await client.connect();
      try {
        let n = 0;
        return (await client.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
      } finally {
        await client.end();
      }
    }
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path.join(this.home, "drover.db"));
    try {
      const statement = db.prepare(text);
      return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
    } finally {
      db.close();
    }
  }

  /** Everything the store holds on disk, as text: the SQLite files, or every row of every table on PostgreSQL. */
  async storeText(): Promise<string> {
    if (this.env.DROVER_STORE) {
      const tables = await this.sql<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
      const rows = await Promise.all(tables.map((t) => this.sql<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${t.table_name} t`)));
      return rows.flat().map((r) => r.row).join("\n");
    }
    const file = path.join(this.home, "drover.db");
    return fs.readFileSync(file).toString("latin1") + (fs.existsSync(`${file}-wal`) ? fs.readFileSync(`${file}-wal`).toString("latin1") : "");
  }

  /** Writes a descriptor into the test's folder and returns its path. */
  write(name: string, text: string): string {
    const file = path.join(this.home, name);
    fs.writeFileSync(file, text);
    return file;
  }

  async cleanup(): Promise<void> {
    if (await this.healthy()) await this.run(["down", "--timeout", "15"]);
    this.server?.kill("SIGKILL");
    const replicas = path.join(this.home, "agent", "replicas");
    for (const id of fs.existsSync(replicas) ? fs.readdirSync(replicas) : []) {
      try {
        const { handle } = JSON.parse(fs.readFileSync(path.join(replicas, id, "state.json"), "utf8")) as { handle?: { pid?: number } };
        if (handle?.pid) {
          process.kill(-handle.pid, "SIGKILL");
          // a cgroup can only be removed once its processes are gone
          await waitFor(`replica ${id} to die`, () => !fs.existsSync(`/proc/${handle.pid}`) || fs.readFileSync(`/proc/${handle.pid}/stat`, "utf8").includes(") Z "), 5000, 10);
        }
      } catch {
        // no state or the group is gone already
      }
      for (const controller of ["cpu", "cpuacct", "memory", "pids"]) {
        try {
          fs.rmdirSync(`/sys/fs/cgroup/${controller}/drover/${id}`);
        } catch {
          // released by drover already, or no cgroup here
        }
      }
    }
    // A server killed with -9 leaves its kernel rules for tcp ports behind, and its containers.
    KernelTcp.forget(path.join(this.home, "agent"));
    // Volumes live outside the home when drover is root (/var/lib/drover/volumes/<tag>).
    fs.rmSync(volumesRoot(path.join(this.home, "agent")), { recursive: true, force: true });
    removeContainers(path.join(this.home, "agent"));
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

/** A hello service descriptor on a given service port. */
export function helloService(name: string, port: number, options: { replicas?: number; env?: Record<string, string>; extra?: string; namespace?: string; grace?: string } = {}): string {
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}: "${v}"`).join(", ");
  return `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: ${options.namespace ?? "test"}}
spec:
  command: [node, server.js]
  working_dir: ${HELLO}
  replicas: ${options.replicas ?? 1}
  networking:
    ports: [{name: http, port: ${port}}]
  stop: {grace_period: ${options.grace ?? "3s"}}
  configuration:
    environment: {${env}}
${options.extra ?? ""}`;
}

export interface LoadResult {
  requests: number;
  failed: number;
  /** Answers by status code; "error" for requests that got no answer at all. */
  statuses: Record<string, number>;
  /** Which revisions answered (from hello's body). */
  revisions: Record<string, number>;
  /** Which replicas answered (from hello's body). */
  replicas: Record<string, number>;
  /** The first failures, each with when it ended (ms after the load began) and why: for the assertion's message. */
  failures: string[];
}

/** What a load's assertion message shows: the answers by status and the first failures with their reasons. */
export function loadSummary(load: LoadResult): string {
  return `${JSON.stringify(load.statuses)}${load.failures.length ? `; first failures: ${load.failures.join(" | ")}` : ""}`;
}

/**
 * Sends requests to host:port (127.0.0.1 by default) from `workers` loops until `until` settles: half on
 * keep-alive connections, half on a new connection per request. A request fails when it gets no
 * answer or a status other than 2xx.
 */
export async function loadDuring<T>(port: number, until: Promise<T>, workers = 4, host = "127.0.0.1"): Promise<LoadResult & { value: T }> {
  const result: LoadResult = { requests: 0, failed: 0, statuses: {}, revisions: {}, replicas: {}, failures: [] };
  const began = Date.now();
  const noteFailure = (why: string) => {
    if (result.failures.length < 10) result.failures.push(`${Date.now() - began} ms: ${why}`);
  };
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: workers });
  let done = false;
  const settled = until.finally(() => (done = true));
  const one = (agent: http.Agent | false) =>
    new Promise<void>((resolve) => {
      const request = http.get({ host, port, path: "/", agent }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => {
          const status = String(response.statusCode);
          result.statuses[status] = (result.statuses[status] ?? 0) + 1;
          if (!status.startsWith("2")) {
            result.failed++;
            noteFailure(`${status} ${body.slice(0, 200).trim()}`);
          }
          const revision = /"revision":"(\d+)"/.exec(body)?.[1];
          if (revision) result.revisions[revision] = (result.revisions[revision] ?? 0) + 1;
          const replica = /"replica":"([^"]+)"/.exec(body)?.[1];
          if (replica) result.replicas[replica] = (result.replicas[replica] ?? 0) + 1;
          resolve();
        });
        response.on("error", (error) => {
          result.failed++;
          noteFailure(`response: ${error.message}`);
          result.statuses.error = (result.statuses.error ?? 0) + 1;
          resolve();
        });
      });
      request.setTimeout(10_000, () => request.destroy(new Error("timeout")));
      request.on("error", (error) => {
        result.failed++;
        noteFailure(`request: ${error.message}`);
        result.statuses.error = (result.statuses.error ?? 0) + 1;
        resolve();
      });
    });
  const loops = Array.from({ length: workers }, async (_, i) => {
    while (!done) {
      result.requests++;
      await one(i % 2 === 0 ? keepAlive : false);
    }
  });
  const value = await settled;
  await Promise.all(loops);
  keepAlive.destroy();
  return { ...result, value };
}

/**
 * Null when containers can run here (the test images are built first if missing), else why not:
 * docker tests skip with that reason only where no engine can run at all.
 */
export function dockerUnavailable(): string | null {
  const version = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
  if (version.error) return "no docker command here (apt-get install -y docker.io)";
  if (version.status !== 0) return `no Docker Engine answers: ${version.stderr.trim().split("\n").pop()}`;
  const built = spawnSync(path.join(REPO, "scripts/build-test-images.sh"), { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`cannot build the test images: ${built.stderr}`);
  return null;
}

/** The containers a drover with this agent folder started (by the label it gives them). */
export function containersOf(agentDir: string, all = true): string[] {
  const listed = spawnSync("docker", ["ps", ...(all ? ["-a"] : []), "-q", "--no-trunc", "--filter", `label=dev.drover.home=${agentDir}`], { encoding: "utf8" });
  return listed.status === 0 ? listed.stdout.split("\n").filter(Boolean).sort() : [];
}

function removeContainers(agentDir: string): void {
  const ids = containersOf(agentDir);
  if (ids.length > 0) spawnSync("docker", ["rm", "-f", "-v", ...ids]);
  // Secrets mounted into containers live on a tmpfs, in a folder named after the agent folder.
  const folder = `drover-${homeTag(agentDir)}`;
  for (const base of ["/dev/shm", "/run"]) fs.rmSync(path.join(base, folder), { recursive: true, force: true });
}

