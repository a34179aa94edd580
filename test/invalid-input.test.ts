import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { EventRecord, RevisionRecord, ServiceSummary } from "../src/contract/index.js";
import { INVALID } from "./fixtures/invalid-descriptors.js";
import { Drover, freePort, helloService } from "./harness.js";

let drover: Drover;
let port: number;

before(async () => {
  drover = await Drover.started();
  port = await freePort();
  const applied = await drover.run(["apply", "-f", drover.write("good.yaml", helloService("api", port, { namespace: "default" })), "--yes"]);
  assert.equal(applied.code, 0, applied.stderr);
});
after(async () => drover.cleanup());

async function snapshot() {
  const services = await drover.json<ServiceSummary[]>(["get"]);
  const revisions = await drover.json<RevisionRecord[]>(["history", "api"]);
  const events = await drover.json<EventRecord[]>(["events", "-n", "10000"]);
  return { services: services.map((s) => [s.name, s.revision, s.desired]), revisions: revisions.map((r) => r.hash), changes: events.filter((e) => /Revision|Service|ConfigMap|Secret/.test(e.type)).length };
}

test("each invalid descriptor: exit 2, the precise error, and nothing changed", async () => {
  const start = await snapshot();
  for (const c of INVALID) {
    const file = drover.write("t.yaml", c.text);
    const expected = c.error.replaceAll("t.yaml", file);
    for (const command of ["apply", "plan", "validate"]) {
      if (command === "validate" && c.offline === "warning") continue;
      const result = await drover.run(command === "apply" ? [command, "-f", file, "--yes"] : [command, "-f", file]);
      assert.equal(result.code, 2, `${c.name} (${command}): exit code, stderr: ${result.stderr}`);
      assert.ok(result.stderr.includes(expected), `${c.name} (${command}): expected\n  ${expected}\nin\n  ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /, `${c.name} (${command}): no stack trace`);
    }
  }
  assert.deepEqual(await snapshot(), start);
});

test("a valid file with one invalid document changes nothing at all", async () => {
  const start = await snapshot();
  const other = await freePort();
  const text = `${helloService("api", port, { namespace: "default", env: { MESSAGE: "changed" } })}---\n${helloService("second", other, { namespace: "default", extra: "  restart: {policy: sometimes}\n" })}`;
  const result = await drover.run(["apply", "-f", drover.write("mixed.yaml", text), "--yes"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /spec\.restart\.policy: expected one of "always", "on_failure", "never", got the string "sometimes"/);
  assert.deepEqual(await snapshot(), start);
});

test("the API answers client mistakes with 400/404 naming the field, never 500", async () => {
  const cases: Array<[string, RequestInit, number, RegExp]> = [
    ["/api/v1/services/api/scale", { method: "POST", body: JSON.stringify({ replicas: -1 }), headers: { "content-type": "application/json" } }, 400, /replicas/],
    ["/api/v1/services/api/scale", { method: "POST", body: JSON.stringify({ replicas: "3" }), headers: { "content-type": "application/json" } }, 400, /replicas/],
    ["/api/v1/services/api/scale", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } }, 400, /JSON/i],
    ["/api/v1/apply", { method: "POST", body: JSON.stringify({ files: "x" }), headers: { "content-type": "application/json" } }, 400, /files/],
    ["/api/v1/apply", { method: "POST", body: JSON.stringify({ files: [{ file: "a.yaml", text: "kind: Nope", baseDir: "/" }] }), headers: { "content-type": "application/json" } }, 400, /a\.yaml:1:7 kind: unknown kind/],
    ["/api/v1/services/nope", { method: "GET" }, 404, /no service "nope"/],
    ["/api/v1/services/ap/scale", { method: "POST", body: JSON.stringify({ replicas: 1 }), headers: { "content-type": "application/json" } }, 404, /did you mean "api"/],
    ["/api/v1/events?limit=abc", { method: "GET" }, 400, /limit/],
    ["/api/v1/services/api/logs?tail=-5", { method: "GET" }, 400, /tail/],
  ];
  for (const [route, init, status, message] of cases) {
    const response = await drover.api<{ message: string }>(route, init);
    assert.equal(response.status, status, `${init.method} ${route}: ${response.body.message}`);
    assert.match(response.body.message, message, route);
  }
});

test("CLI usage mistakes exit 2 with a message", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["scale", "api", "-2"], /unknown option|replicas/],
    [["scale", "api", "many"], /replicas: expected a whole number/],
    [["scale", "nope", "2"], /no service "nope"/],
    [["apply"], /required option '-f, --file/],
    [["apply", "-f", "/does/not/exist.yaml"], /no such file or folder/],
    [["frobnicate"], /unknown command/],
    [["logs", "api/nope-123"], /no replica "nope-123"/],
  ];
  for (const [args, message] of cases) {
    const result = await drover.run(args);
    assert.equal(result.code, 2, `drover ${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
  }
});
