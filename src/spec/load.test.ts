import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatIssue, loadDescriptors, SpecError } from "./index.js";
import { INVALID, service } from "../../test/fixtures/invalid-descriptors.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function firstError(text: string): string {
  try {
    loadDescriptors([{ file: "t.yaml", text, baseDir: "/srv" }]);
  } catch (error) {
    assert.ok(error instanceof SpecError, `expected a SpecError, got ${error}`);
    return formatIssue(error.issues.find((i) => i.severity === "error")!);
  }
  assert.fail("the descriptor was accepted");
}

test("invalid descriptors: each gives a precise error at file:line:col and the field path", () => {
  assert.ok(INVALID.length >= 20);
  for (const c of INVALID) assert.equal(firstError(c.text), c.error, c.name);
});

test("every problem of a file is reported at once", () => {
  const text = service("  replica: 2\n  restart: {policy: alwayz}\n  stop: {grace_period: 10x}\n");
  assert.throws(() => loadDescriptors([{ file: "t.yaml", text, baseDir: "/" }]), (error: SpecError) => error.issues.length === 3);
});

test("the original format's fixture loads unchanged, with references outside the file as warnings", () => {
  const file = path.join(repo, "../shared/fixtures/mohhos-service.yaml");
  const set = loadDescriptors([{ file, text: fs.readFileSync(file, "utf8"), baseDir: path.dirname(file) }], { unresolved: "validate" });
  const [svc] = set.services;
  assert.equal(svc?.metadata.name, "ai-inference-service");
  assert.equal(svc?.spec.runtime, "docker");
  assert.equal(svc?.spec.replicas, 2);
  assert.equal(svc?.spec.resources.limits.memory, 8 * 1024 ** 3);
  assert.equal(svc?.spec.resources.requests.cpu, 2000);
  assert.equal(svc?.spec.health_checks.liveness_probe?.initial_delay, 30_000);
  assert.equal(svc?.spec.scaling?.scale_up_policy?.stabilization_window, 60_000);
  assert.equal(svc?.spec.configuration.environment.ENABLE_METRICS, "true");
  assert.deepEqual(set.warnings.map((w) => w.path), ["spec.dependencies[0].name", "spec.dependencies[1].name", "spec.configuration.config_maps[0]", "spec.configuration.secrets[0]"]);
  assert.throws(() => loadDescriptors([{ file, text: fs.readFileSync(file, "utf8"), baseDir: "/" }]), SpecError, "unresolved references are errors when applying");
});

test("defaults and normalisation", () => {
  const set = loadDescriptors([{ file: "t.yaml", text: service("  working_dir: ./app\n  networking: {ports: [{port: 8080}]}\n"), baseDir: "/srv" }]);
  const spec = set.services[0]!.spec;
  assert.equal(spec.working_dir, "/srv/app");
  assert.equal(spec.runtime, "process");
  assert.equal(spec.replicas, 1);
  assert.deepEqual(spec.networking.ports, [{ name: "http", port: 8080, protocol: "http" }]);
  assert.deepEqual(spec.restart, { policy: "always", backoff: { initial: 100, max: 30_000, multiplier: 2, reset_after: 60_000 } });
  assert.deepEqual(spec.stop, { signal: "SIGTERM", grace_period: 10_000 });
  assert.deepEqual(spec.deployment.rolling, { max_surge: { percent: 25 }, max_unavailable: { count: 0 }, min_ready: 0 });
  assert.equal(set.services[0]!.metadata.namespace, "default");
});

test("references resolve against objects that already exist", () => {
  const known = { services: new Map([["default/db", { dependencies: [], ports: [5432] }]]), configMaps: new Set(["default/settings"]), secrets: new Set<string>() };
  const text = service("  dependencies: [{name: db}]\n  configuration: {config_maps: [settings]}\n");
  assert.equal(loadDescriptors([{ file: "t.yaml", text, baseDir: "/" }], { known }).services.length, 1);
  const clash = service("  networking: {ports: [{port: 5432}]}\n");
  assert.throws(() => loadDescriptors([{ file: "t.yaml", text: clash, baseDir: "/" }], { known }), /port 5432 is already used by service "default\/db"/);
});

test("the shop example is valid", () => {
  const file = path.join(repo, "examples/shop.yaml");
  const set = loadDescriptors([{ file, text: fs.readFileSync(file, "utf8"), baseDir: path.dirname(file) }]);
  assert.deepEqual(set.services.map((s) => s.metadata.name), ["catalog", "orders", "storefront"]);
});
