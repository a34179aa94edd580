import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { hashToken } from "../src/security/tokens.js";
import { Drover, freePort, helloService, REPO } from "./harness.js";

let drover: Drover;
const tokens: Record<string, string> = {};
before(async () => {
  drover = await Drover.started();
  for (const role of ["viewer", "operator", "admin"]) {
    const created = await drover.run(["token", "create", `t-${role}`, "--role", role]);
    assert.equal(created.code, 0, created.stderr);
    tokens[role] = created.stdout.trim();
  }
  const revoked = await drover.run(["token", "create", "t-revoked", "--role", "admin"]);
  tokens.revoked = revoked.stdout.trim();
  assert.equal((await drover.run(["token", "revoke", "t-revoked"])).code, 0);
  // An admin token whose lifetime ended an hour ago (written straight into the store).
  tokens.expired = "drv_expired-token-for-the-test";
  await drover.sql("INSERT INTO tokens (name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)", ["t-expired", "admin", hashToken(tokens.expired), Date.now() - 7_200_000, Date.now() - 3_600_000]);
});
after(async () => drover.cleanup());

type Identity = "none" | "revoked" | "expired" | "viewer" | "operator" | "admin";
const IDENTITIES: Identity[] = ["none", "revoked", "expired", "viewer", "operator", "admin"];
const RANK: Record<string, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Every route, with the least role it needs (null: open) and a request that cannot change
 * anything: an unknown service or an invalid body, so an allowed call ends in 2xx/400/404.
 */
const ROUTES: Array<{ method: string; pattern: string; url: string; needs: string | null; body?: unknown }> = [
  { method: "GET", pattern: "/api/v1/health", url: "/api/v1/health", needs: null },
  { method: "GET", pattern: "/healthz", url: "/healthz", needs: null },
  { method: "GET", pattern: "/readyz", url: "/readyz", needs: null },
  { method: "GET", pattern: "/metrics", url: "/metrics", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/info", url: "/api/v1/info", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/plan", url: "/api/v1/plan", needs: "viewer", body: { files: "not a list" } },
  { method: "POST", pattern: "/api/v1/apply", url: "/api/v1/apply", needs: "operator", body: { files: "not a list" } },
  { method: "GET", pattern: "/api/v1/services", url: "/api/v1/services", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/services/:name", url: "/api/v1/services/nope", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/services/:name/revisions", url: "/api/v1/services/nope/revisions", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/services/:name/scale", url: "/api/v1/services/nope/scale", needs: "operator", body: { replicas: 1 } },
  { method: "POST", pattern: "/api/v1/services/:name/stop", url: "/api/v1/services/nope/stop", needs: "operator" },
  { method: "POST", pattern: "/api/v1/services/:name/start", url: "/api/v1/services/nope/start", needs: "operator" },
  { method: "POST", pattern: "/api/v1/services/:name/restart", url: "/api/v1/services/nope/restart", needs: "operator" },
  { method: "GET", pattern: "/api/v1/services/:name/metrics", url: "/api/v1/services/nope/metrics", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/top", url: "/api/v1/top", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/services/:name/traffic", url: "/api/v1/services/nope/traffic", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/services/:name/rollout", url: "/api/v1/services/nope/rollout", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/services/:name/autoscale", url: "/api/v1/services/nope/autoscale", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/services/:name/recommendations", url: "/api/v1/services/nope/recommendations", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/services/:name/rollout/:action", url: "/api/v1/services/nope/rollout/pause", needs: "operator" },
  { method: "POST", pattern: "/api/v1/services/:name/rollback", url: "/api/v1/services/nope/rollback", needs: "operator" },
  { method: "GET", pattern: "/api/v1/services/:name/diff", url: "/api/v1/services/nope/diff?from=1&to=2", needs: "viewer" },
  { method: "DELETE", pattern: "/api/v1/services/:name", url: "/api/v1/services/nope", needs: "operator" },
  { method: "GET", pattern: "/api/v1/replicas", url: "/api/v1/replicas", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/services/:name/logs", url: "/api/v1/services/nope/logs", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/events", url: "/api/v1/events?limit=1", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/tokens", url: "/api/v1/tokens", needs: "admin" },
  { method: "POST", pattern: "/api/v1/tokens", url: "/api/v1/tokens", needs: "admin", body: { name: "Bad Name!", role: "viewer" } },
  { method: "DELETE", pattern: "/api/v1/tokens/:name", url: "/api/v1/tokens/nope", needs: "admin" },
  { method: "GET", pattern: "/api/v1/audit", url: "/api/v1/audit", needs: "admin" },
  { method: "GET", pattern: "/api/v1/secrets", url: "/api/v1/secrets", needs: "admin" },
  { method: "GET", pattern: "/api/v1/whoami", url: "/api/v1/whoami", needs: "viewer" },
  // The dashboard's page itself (its data comes from the API, with a token).
  { method: "GET", pattern: "/", url: "/", needs: null },
  { method: "GET", pattern: "/assets/*", url: "/assets/nope.js", needs: null },
  { method: "POST", pattern: "/api/v1/dashboard/codes", url: "/api/v1/dashboard/codes", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/dashboard/session", url: "/api/v1/dashboard/session", needs: null, body: { code: "nope" } },
  { method: "POST", pattern: "/api/v1/policies/test", url: "/api/v1/policies/test", needs: "viewer", body: { files: [] } },
  { method: "POST", pattern: "/api/v1/backup", url: "/api/v1/backup", needs: "admin", body: { includeKey: "yes" } },
  { method: "PUT", pattern: "/api/v1/secrets/:name", url: "/api/v1/secrets/test%2Fnope", needs: "admin", body: { data: {} } },
  { method: "DELETE", pattern: "/api/v1/secrets/:name", url: "/api/v1/secrets/test%2Fnope", needs: "admin" },
  { method: "GET", pattern: "/api/v1/audit/verify", url: "/api/v1/audit/verify", needs: "admin" },
  { method: "GET", pattern: "/api/v1/nodes", url: "/api/v1/nodes", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/nodes/:name", url: "/api/v1/nodes/nope", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/nodes/:name/:action", url: "/api/v1/nodes/nope/cordon", needs: "operator" },
  { method: "POST", pattern: "/api/v1/nodes/:name/labels", url: "/api/v1/nodes/nope/labels", needs: "operator", body: { labels: {} } },
  { method: "DELETE", pattern: "/api/v1/nodes/:name", url: "/api/v1/nodes/nope", needs: "admin" },
  { method: "POST", pattern: "/api/v1/nodes/join-tokens", url: "/api/v1/nodes/join-tokens", needs: "admin", body: { ttl: "forever" } },
  { method: "GET", pattern: "/api/v1/pools", url: "/api/v1/pools", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/pools/:name", url: "/api/v1/pools/nope", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/pools/:name/scale", url: "/api/v1/pools/nope/scale", needs: "operator", body: { desired: 1 } },
  { method: "DELETE", pattern: "/api/v1/pools/:name", url: "/api/v1/pools/nope", needs: "operator" },
  { method: "GET", pattern: "/api/v1/jobs", url: "/api/v1/jobs", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/jobs/:name", url: "/api/v1/jobs/nope", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/jobs/:name/runs", url: "/api/v1/jobs/nope/runs", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/jobs/:name/runs/:run/logs", url: "/api/v1/jobs/nope/runs/1/logs", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/jobs/:name/runs", url: "/api/v1/jobs/nope/runs", needs: "operator" },
  { method: "DELETE", pattern: "/api/v1/jobs/:name", url: "/api/v1/jobs/nope", needs: "operator" },
  { method: "GET", pattern: "/api/v1/volumes", url: "/api/v1/volumes", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/databases", url: "/api/v1/databases", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/databases/:name", url: "/api/v1/databases/nope", needs: "viewer" },
  { method: "GET", pattern: "/api/v1/databases/:name/backups", url: "/api/v1/databases/nope/backups", needs: "viewer" },
  { method: "POST", pattern: "/api/v1/databases/:name/backups", url: "/api/v1/databases/nope/backups", needs: "operator" },
  { method: "POST", pattern: "/api/v1/databases/:name/restore", url: "/api/v1/databases/nope/restore", needs: "admin", body: { file: "x.dump" } },
  { method: "GET", pattern: "/api/v1/databases/:name/connection", url: "/api/v1/databases/nope/connection", needs: "admin" },
  { method: "DELETE", pattern: "/api/v1/volumes/:key", url: "/api/v1/volumes/test%2Fnope%2Fdata", needs: "operator" },
  // Allowed for an admin it would stop the server: only the refusals are tried (the admin path is `drover down`).
  { method: "POST", pattern: "/api/v1/shutdown", url: "/api/v1/shutdown", needs: "admin" },
];

test("the route table covers every route the API registers", () => {
  const registered = new Set<string>();
  for (const file of fs.readdirSync(path.join(REPO, "src/api")).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const text = fs.readFileSync(path.join(REPO, "src/api", file), "utf8");
    for (const match of text.matchAll(/app\.(get|post|delete|put)(?:<.*?>)?\("([^"]+)"/g)) registered.add(`${match[1]!.toUpperCase()} ${match[2]}`);
  }
  assert.deepEqual([...registered].sort(), ROUTES.map((r) => `${r.method} ${r.pattern}`).sort());
});

test("every API route × every identity: open routes answer anyone; others need a live token of a sufficient role", async () => {
  const seen: string[] = [];
  for (const route of ROUTES) {
    for (const identity of IDENTITIES) {
      const allowed = route.needs === null || (identity in RANK && RANK[identity]! >= RANK[route.needs]!);
      if (route.pattern === "/api/v1/shutdown" && allowed && route.needs !== null) continue;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (identity !== "none") headers.authorization = `Bearer ${tokens[identity]}`;
      const response = await fetch(`${drover.url}${route.url}`, { method: route.method, headers, ...(route.method === "GET" ? {} : { body: JSON.stringify(route.body ?? {}) }) });
      const body = await response.text();
      const what = `${route.method} ${route.url} as ${identity}: ${response.status} ${body.slice(0, 160)}`;
      seen.push(what);
      if (!allowed) {
        const expected = ["none", "revoked", "expired"].includes(identity) ? 401 : 403;
        assert.equal(response.status, expected, what);
        if (identity === "revoked") assert.match(body, /was revoked/, what);
        if (identity === "expired") assert.match(body, /expired at/, what);
        if (expected === 403) assert.match(body, new RegExp(`has role ${identity}; .* needs ${route.needs}`), what);
      } else {
        assert.ok(response.status < 500, what);
        assert.ok(response.status !== 401 && response.status !== 403, what);
      }
    }
  }
  assert.ok(seen.length > 180, `${seen.length} calls`);
});

test("tokens are kept hashed: the database never holds one, token list never shows one", async () => {
  const list = await drover.run(["token", "list", "-o", "json"]);
  for (const token of Object.values(tokens)) assert.ok(!list.stdout.includes(token));
  assert.ok(!list.stdout.includes("hash"));
  const raw = await drover.storeText();
  for (const role of ["viewer", "operator", "admin"]) {
    assert.ok(!raw.includes(tokens[role]!), `the ${role} token is not in the database files`);
    assert.ok(raw.includes(hashToken(tokens[role]!)), `its hash is`);
  }
});

test("repeated failed authentication is answered more and more slowly", async () => {
  const timings: number[] = [];
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    const response = await fetch(`${drover.url}/api/v1/services`, { headers: { authorization: "Bearer drv_wrong" } });
    assert.equal(response.status, 401);
    timings.push(performance.now() - started);
  }
  assert.ok(timings[0]! < 80, `the first failure is answered at once (${timings[0]!.toFixed(0)} ms)`);
  assert.ok(timings[5]! >= 180 && timings[6]! >= 380, `later ones wait: ${timings.map((t) => t.toFixed(0)).join(", ")} ms`);
  // A good token is not slowed by someone else's failures... nor by its own earlier ones once it succeeds.
  const started = performance.now();
  assert.equal((await fetch(`${drover.url}/api/v1/services`, { headers: { authorization: `Bearer ${tokens.viewer}` } })).status, 200);
  assert.ok(performance.now() - started < 100);
});

test("the audit trail records who changed what, and `audit verify` finds an edited, a deleted and a reordered entry", async () => {
  const port = await freePort();
  /** The CLI with the operator's token instead of the home's admin token. */
  const asOperator = async (args: string[]) => {
    drover.env.DROVER_TOKEN = tokens.operator;
    try {
      return await drover.run(args);
    } finally {
      delete drover.env.DROVER_TOKEN;
    }
  };
  assert.equal((await asOperator(["apply", "-y", "-f", drover.write("audited.yaml", helloService("audited", port))])).code, 0);
  assert.equal((await asOperator(["scale", "test/audited", "2"])).code, 0);
  assert.equal((await drover.run(["scale", "test/audited", "1"])).code, 0);
  const { entries } = (await drover.api<{ entries: Array<{ seq: number; actor: string; role: string; action: string; object: string; summary: string }> }>("/api/v1/audit")).body;
  const mine = entries.filter((e) => e.object.includes("test/audited"));
  assert.deepEqual(mine.map((e) => [e.actor, e.role, e.action, e.summary]), [
    ["t-operator", "operator", "apply", "create Service test/audited"],
    ["t-operator", "operator", "scale", "replicas 2"],
    ["admin", "admin", "scale", "replicas 1"],
  ]);
  const verify = () => drover.run(["audit", "verify"]);
  assert.equal((await verify()).code, 0);

  const row = async (seq: number) => (await drover.sql("SELECT * FROM audit WHERE seq = ?", [seq]))[0]!;
  const second = await row(2);
  const third = await row(3);
  const put = async (entry: Record<string, unknown>, seq: number) => {
    await drover.sql("DELETE FROM audit WHERE seq = ?", [seq]);
    await drover.sql("INSERT INTO audit (seq, time, actor, role, action, object, summary, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [seq, entry.time, entry.actor, entry.role, entry.action, entry.object, entry.summary, entry.prev_hash, entry.hash]);
  };

  await drover.sql("UPDATE audit SET summary = 'replicas 200' WHERE seq = 2");
  let result = await verify();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /tampered with: entry 2 was edited/);
  await put(second, 2);
  assert.equal((await verify()).code, 0, "restored");

  await drover.sql("DELETE FROM audit WHERE seq = 3");
  result = await verify();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /entry 3 is missing \(deleted\)/);
  await put(third, 3);

  // Reordered: entries 2 and 3 swap places (each keeps its own hash).
  await put(third, 2);
  await put(second, 3);
  result = await verify();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /entry 2 (does not follow entry 1|was edited)/);
  await put(second, 2);
  await put(third, 3);
  assert.equal((await verify()).code, 0, "restored");

  const [last] = await drover.sql<{ seq: number }>("SELECT MAX(seq) AS seq FROM audit");
  await drover.sql("DELETE FROM audit WHERE seq = ?", [Number(last!.seq)]);
  result = await verify();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /missing \(deleted from the end\)/);
});
