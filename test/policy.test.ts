import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Drover, freePort, helloService, REPO } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover.cleanup());

const strict = (namespaces: string[], mode = "enforce") => `apiVersion: drover/v1
kind: Policy
metadata: {name: strict-${namespaces.join("-") || "all"}}
spec:
  namespaces: [${namespaces.join(", ")}]
  rules:
    - {rule: require_non_root, mode: ${mode}}
    - {rule: require_resource_limits, mode: ${mode}}
    - {rule: forbid_capabilities, mode: ${mode}, capabilities: [NET_BIND_SERVICE, SYS_ADMIN]}
    - {rule: require_read_only_root_filesystem, mode: ${mode}}
    - {rule: require_probes, mode: ${mode}, probes: [startup, liveness, readiness]}
    - {rule: allowed_runtimes, mode: ${mode}, runtimes: [process]}
    - {rule: require_signature, mode: ${mode}}
`;

test("the shared fixture against a strict policy: every violation listed with its place and field path", async () => {
  assert.equal((await drover.run(["apply", "-y", "-f", drover.write("strict.yaml", strict(["mohhos-ai"]))])).code, 0);
  const fixture = path.join(REPO, "../shared/fixtures/mohhos-service.yaml");
  const result = await drover.run(["policy", "test", "-f", fixture]);
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stdout.trim().split("\n");
  const expected = [
    /^enforce .*mohhos-service\.yaml:2:1 policy strict-mohhos-ai \(require_signature, enforce\): the descriptor is not signed/,
    /^enforce .*mohhos-service\.yaml:\d+:\d+ spec\.security\.capabilities\.add\[0\]: policy strict-mohhos-ai \(forbid_capabilities, enforce\): adds NET_BIND_SERVICE, which is forbidden$/,
    /^enforce .*mohhos-service\.yaml:\d+:\d+ spec\.health_checks\.startup_probe: policy strict-mohhos-ai \(require_probes, enforce\): no startup probe$/,
    /^enforce .*mohhos-service\.yaml:\d+:\d+ spec\.runtime: policy strict-mohhos-ai \(allowed_runtimes, enforce\): runtime docker is not allowed \(allowed: process\)$/,
  ];
  for (const pattern of expected) assert.ok(lines.some((l) => pattern.test(l)), `${pattern} in\n${result.stdout}`);
  assert.match(lines[lines.length - 1]!, /^4 enforced, 0 warned$/);
  // The fixture sets a non-root user, limits and a read-only root: no violation of those rules.
  assert.doesNotMatch(result.stdout, /require_non_root|require_resource_limits|require_read_only_root_filesystem/);
  // Applying it is refused with the same list, and changes nothing.
  const applied = await drover.run(["apply", "-y", "-f", fixture]);
  assert.equal(applied.code, 2);
  assert.match(applied.stderr, /spec\.runtime: policy strict-mohhos-ai \(allowed_runtimes, enforce\)/);
  assert.equal((await drover.json<unknown[]>(["get"])).length, 0);
});

test("enforce refuses with the field's place, warn lets through with a warning; an operator may not change policies", async () => {
  assert.equal((await drover.run(["apply", "-y", "-f", drover.write("p-enforce.yaml", strict(["locked"]))])).code, 0);
  assert.equal((await drover.run(["apply", "-y", "-f", drover.write("p-warn.yaml", strict(["loose"], "warn"))])).code, 0);
  const port = await freePort();
  const locked = await drover.run(["apply", "-y", "-f", drover.write("locked.yaml", helloService("app", port, { namespace: "locked" }))]);
  assert.equal(locked.code, 2);
  assert.match(locked.stderr, /locked\.yaml:\d+:\d+ spec\.security: policy strict-locked \(require_non_root, enforce\): may run as root/);
  assert.match(locked.stderr, /spec\.resources\.limits\.cpu: policy strict-locked \(require_resource_limits, enforce\): no cpu limit/);
  assert.match(locked.stderr, /spec\.security\.security_context\.read_only_root_filesystem: policy strict-locked/);
  assert.equal((await drover.json<unknown[]>(["get"])).length, 0, "nothing applied");

  const loose = await drover.run(["apply", "-y", "-f", drover.write("loose.yaml", helloService("app", await freePort(), { namespace: "loose" }))]);
  assert.equal(loose.code, 0, loose.stderr);
  assert.match(loose.stderr, /warning: spec\.security: policy strict-loose \(require_non_root, warn\): may run as root/);

  const operator = (await drover.run(["token", "create", "ops", "--role", "operator"])).stdout.trim();
  drover.env.DROVER_TOKEN = operator;
  try {
    const changed = await drover.run(["apply", "-y", "-f", drover.write("p-op.yaml", strict(["other"]))]);
    assert.equal(changed.code, 2);
    assert.match(changed.stderr, /changing a Policy needs an admin token/);
  } finally {
    delete drover.env.DROVER_TOKEN;
  }
});

test("signed descriptors: a signature from a trusted key passes require_signature; an altered or unsigned file is refused with the reason", async () => {
  assert.equal((await drover.run(["apply", "-y", "-f", drover.write("p-signed.yaml", "apiVersion: drover/v1\nkind: Policy\nmetadata: {name: signed-only}\nspec:\n  namespaces: [signed]\n  rules: [{rule: require_signature}]\n")])).code, 0);
  const keys = path.join(drover.home, "keys");
  const keygen = await drover.run(["keygen", "release", "--dir", keys]);
  assert.equal(keygen.code, 0, keygen.stderr);
  assert.equal(fs.statSync(path.join(keys, "release.key")).mode & 0o777, 0o600);
  fs.mkdirSync(path.join(drover.home, "trust"));
  fs.copyFileSync(path.join(keys, "release.pub"), path.join(drover.home, "trust", "release.pub"));

  const port = await freePort();
  const file = drover.write("signed.yaml", `# comments and layout are not signed\n${helloService("app", port, { namespace: "signed" })}`);
  const unsigned = await drover.run(["apply", "-y", "-f", file]);
  assert.equal(unsigned.code, 2);
  assert.match(unsigned.stderr, /signed\.yaml:2:1 policy signed-only \(require_signature, enforce\): the descriptor is not signed/);

  assert.equal((await drover.run(["sign", "-k", path.join(keys, "release.key"), file])).code, 0);
  // Reformatting keeps the signature valid: only content is signed.
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("# comments and layout are not signed\n", "# another comment\n\n"));
  const signed = await drover.run(["apply", "-y", "-f", file]);
  assert.equal(signed.code, 0, signed.stderr);

  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("replicas: 1", "replicas: 3"));
  const altered = await drover.run(["apply", "-y", "-f", file]);
  assert.equal(altered.code, 2);
  assert.match(altered.stderr, /the signature does not match: the descriptor was altered after signing, or signed by a key that is not trusted/);
});
