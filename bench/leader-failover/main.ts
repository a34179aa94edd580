/**
 * Leader failover of the control plane: three `drover server`s on one PostgreSQL (a real server
 * started for the run), default lease (10 s, renewed every 2 s). Ten times the leader is killed
 * with -9 and the time until another server leads is measured (from the kill to the first
 * /readyz that says "leader"); then five clean shutdowns (SIGTERM), which hand the lease over at
 * once. Prints p50 and max and writes bench/results/leader-failover.json.
 *
 *   npm run bench:leader-failover [-- --kills 10 --shutdowns 5]
 */
import crypto from "node:crypto";
import { parseArgs } from "node:util";
import { Drover, waitFor } from "../../test/harness.js";
import { TestPostgres } from "../../test/postgres-harness.js";
import { median, percentile, writeResult } from "../common.js";

const { values } = parseArgs({ options: { kills: { type: "string", default: "10" }, shutdowns: { type: "string", default: "5" } } });

async function role(drover: Drover): Promise<string | null> {
  try {
    const response = await fetch(`${drover.url}/readyz`);
    return response.ok ? ((await response.json()) as { role: string }).role : null;
  } catch {
    return null;
  }
}

async function leaderOf(servers: Drover[]): Promise<Drover | undefined> {
  const roles = await Promise.all(servers.map(role));
  return roles.filter((r) => r === "leader").length === 1 ? servers[roles.indexOf("leader")] : undefined;
}

/** Takes the leader down with `signal`; the milliseconds until another leads, and the server back as a standby. */
async function failover(servers: Drover[], signal: NodeJS.Signals): Promise<number> {
  const leader = await waitFor("one leader", () => leaderOf(servers), 30_000, 20);
  const others = servers.filter((s) => s !== leader);
  const exited = new Promise((resolve) => leader.server!.once("exit", resolve));
  const started = performance.now();
  leader.server!.kill(signal);
  await waitFor("a new leader", () => leaderOf(others), 30_000, 20);
  const elapsed = Math.round(performance.now() - started);
  await exited;
  await leader.startServer();
  await waitFor("the old leader back as a standby", async () => (await role(leader)) === "standby", 15_000, 50);
  return elapsed;
}

const postgres = await TestPostgres.start({ durable: true });
const servers: Drover[] = [];
try {
  const env = { DROVER_STORE: await postgres.createDatabase(), DROVER_MASTER_KEY: crypto.randomBytes(32).toString("base64") };
  for (let i = 0; i < 3; i++) {
    const drover = await Drover.create();
    Object.assign(drover.env, env);
    servers.push(drover);
    await drover.startServer();
  }
  const kills: number[] = [];
  for (let i = 0; i < Number(values.kills); i++) {
    kills.push(await failover(servers, "SIGKILL"));
    process.stdout.write(`kill -9 ${i + 1}: a new leader after ${kills.at(-1)} ms\n`);
  }
  const shutdowns: number[] = [];
  for (let i = 0; i < Number(values.shutdowns); i++) {
    shutdowns.push(await failover(servers, "SIGTERM"));
    process.stdout.write(`clean shutdown ${i + 1}: a new leader after ${shutdowns.at(-1)} ms\n`);
  }
  const summary = (list: number[]) => ({ p50Ms: median(list), p90Ms: percentile(list, 90), maxMs: Math.max(...list), samples: list });
  const result = { leaseMs: 10_000, renewMs: 2_000, kill9: summary(kills), cleanShutdown: summary(shutdowns) };
  process.stdout.write(`kill -9: p50 ${result.kill9.p50Ms} ms, max ${result.kill9.maxMs} ms (target ≤ 12000); clean shutdown: p50 ${result.cleanShutdown.p50Ms} ms, max ${result.cleanShutdown.maxMs} ms\n`);
  writeResult("leader-failover", result);
} finally {
  for (const drover of servers) {
    drover.server?.kill("SIGKILL");
    await drover.cleanup().catch(() => undefined);
  }
  await postgres.close();
}
