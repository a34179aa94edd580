import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Drover, freePort, helloService } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
  assert.equal((await drover.run(["up", "-f", drover.write("base.yaml", helloService("base", await freePort(), { namespace: "fz" }))])).code, 0);
});
after(async () => drover.cleanup());

/** What hostile requests must not change: services, revisions, secrets, tokens, policies' effect, the audit trail. */
async function state(): Promise<unknown> {
  const get = async (route: string) => (await drover.api<unknown>(route)).body;
  const services = (await get("/api/v1/services")) as { services: Array<{ name: string; revision: number; desired: number }> };
  return {
    services: services.services.map((s) => [s.name, s.revision, s.desired]),
    revisions: await get("/api/v1/services/fz%2Fbase/revisions"),
    secrets: await get("/api/v1/secrets"),
    tokens: ((await get("/api/v1/tokens")) as { tokens: Array<{ name: string; revokedAt: number | null }> }).tokens.map((t) => [t.name, t.revokedAt]),
    audit: ((await get("/api/v1/audit")) as { entries: unknown[] }).entries.length,
    nodes: ((await get("/api/v1/nodes")) as { nodes: Array<{ name: string; cordoned: boolean; draining: boolean; labels: object }> }).nodes.map((n) => [n.name, n.cordoned, n.draining, n.labels]),
  };
}

// Every route that takes input, with slots for random path segments (shutdown and backup aside: they take no input to speak of, and a backup is audited).
const ROUTES: Array<[string, string]> = [
  ["POST", "/api/v1/plan"],
  ["POST", "/api/v1/apply"],
  ["POST", "/api/v1/services/{}/scale"],
  ["POST", "/api/v1/services/{}/stop"],
  ["POST", "/api/v1/services/{}/start"],
  ["POST", "/api/v1/services/{}/restart"],
  ["POST", "/api/v1/services/{}/rollout/{}"],
  ["POST", "/api/v1/services/{}/rollback"],
  ["DELETE", "/api/v1/services/{}"],
  ["GET", "/api/v1/services/{}/diff?from={}&to={}"],
  ["GET", "/api/v1/services/{}/metrics?since={}&step={}"],
  ["GET", "/api/v1/services/{}/logs?tail={}"],
  ["GET", "/api/v1/events?limit={}&service={}"],
  ["GET", "/api/v1/audit?since={}"],
  ["POST", "/api/v1/tokens"],
  ["DELETE", "/api/v1/tokens/{}"],
  ["PUT", "/api/v1/secrets/{}"],
  ["DELETE", "/api/v1/secrets/{}"],
  ["POST", "/api/v1/policies/test"],
  ["GET", "/api/v1/nodes/{}"],
  ["POST", "/api/v1/nodes/{}/{}"],
  ["POST", "/api/v1/nodes/{}/labels"],
  ["DELETE", "/api/v1/nodes/{}"],
  ["POST", "/api/v1/nodes/join-tokens"],
];

test("fuzz: hostile requests to every route get 4xx (never 500, never a stack trace) and change nothing", async () => {
  const before = await state();
  const statuses: Record<string, number> = {};
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.record({ files: fc.array(fc.record({ file: fc.string(), text: fc.string({ maxLength: 300 }), baseDir: fc.string() }), { maxLength: 2 }) }).map((v) => JSON.stringify(v)),
    fc.record({ replicas: fc.oneof(fc.integer(), fc.double(), fc.string()), data: fc.dictionary(fc.string(), fc.anything()) }).map((v) => JSON.stringify(v)),
  );
  const segment = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("fz%2Fbase", "nope", "..%2F..", "%00", "a".repeat(300), "-1", "1e309"));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), fc.array(segment, { minLength: 3, maxLength: 3 }), body, async ([method, pattern], segments, payload) => {
      let i = 0;
      const url = pattern.replace(/\{\}/g, () => encodeURIComponent(segments[i++]!));
      const response = await fetch(`${drover.url}${url}`, { method, headers: { ...drover.authorization(), "content-type": "application/json" }, ...(method === "GET" ? {} : { body: payload }) });
      const text = await response.text();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      assert.ok(response.status < 500, `${method} ${url} ${payload.slice(0, 100)} → ${response.status} ${text.slice(0, 200)}`);
      assert.doesNotMatch(text, /\n\s+at [\w.<>]+ \(/, "no stack trace");
      // The only successes allowed are reads (and dry runs): nothing may be changed.
      if (response.status < 300) assert.ok(method === "GET" || url.includes("/plan") || url.includes("/policies/test"), `${method} ${url} succeeded: ${text.slice(0, 200)}`);
    }),
    { numRuns: Number(process.env.DROVER_FUZZ_RUNS ?? 1500), seed: Number(process.env.DROVER_FUZZ_SEED ?? 42) },
  );
  assert.deepEqual(await state(), before, "nothing changed");
  process.stdout.write(`# API fuzz: ${Object.values(statuses).reduce((a, b) => a + b, 0)} requests, by status ${JSON.stringify(statuses)}\n`);
});

test("an oversized body is refused with 413 (or the upload cut off), and the server goes on", async () => {
  const body = JSON.stringify({ files: [{ file: "big.yaml", text: "x".repeat(5 * 1024 * 1024), baseDir: "/" }] });
  // The server answers as soon as the declared length is over the limit; a client still uploading
  // may see its connection reset before it reads that answer.
  const outcome = await fetch(`${drover.url}/api/v1/apply`, { method: "POST", headers: { ...drover.authorization(), "content-type": "application/json" }, body }).then(
    (response) => String(response.status),
    (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
  );
  assert.ok(["413", "EPIPE", "ECONNRESET", "UND_ERR_SOCKET"].includes(outcome), outcome);
  assert.equal((await drover.api("/api/v1/services")).status, 200, "the server goes on");
});
