import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Drover, freePort, helloService, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  drover = await Drover.started();
});
after(async () => drover.cleanup());

const CANARY = "canary-7c1f0e9a-secret-value";
const CANARY_2 = "canary-b84d22f1-rotated-value";

async function envOf(port: number, name: string): Promise<string | null> {
  return ((await (await fetch(`http://127.0.0.1:${port}/env/${name}`)).json()) as { value: string | null }).value;
}

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

test("a secret's value reaches its replicas and nothing else: API, CLI, events, audit, logs, metrics, plans, the raw database", async () => {
  const port = await freePort();
  const descriptor = (extra: string) => `apiVersion: drover/v1
kind: Secret
metadata: {name: api-keys, namespace: test}
string_data: {API_KEY: ${CANARY}}
---
apiVersion: drover/v1
kind: ConfigMap
metadata: {name: settings, namespace: test}
data: {COLOUR: ${extra}}
---
${helloService("vault", port, { replicas: 2, extra: "    secrets: [api-keys]\n    config_maps: [settings]\n" })}`;
  const outputs: Record<string, string> = {};
  const keep = (what: string, text: string) => (outputs[what] = text);
  const up = await drover.run(["up", "-f", drover.write("vault.yaml", descriptor("green"))]);
  assert.equal(up.code, 0, up.stderr);
  keep("up", up.stdout + up.stderr);
  assert.equal(await envOf(port, "API_KEY"), CANARY, "the replica gets the value");

  // Rotate the secret from the environment (not argv): the service rolls out a new revision with it.
  drover.env.ROTATED = CANARY_2;
  const set = await drover.run(["secret", "set", "test/api-keys", "--from-env", "API_KEY=ROTATED"]);
  delete drover.env.ROTATED;
  assert.equal(set.code, 0, set.stderr);
  keep("secret set", set.stdout + set.stderr);
  assert.match(set.stdout, /secret test\/api-keys version 2: API_KEY changed\n {2}test\/vault → revision 2 \(rolls out\)/);
  await waitFor("every replica to have the rotated value", async () => {
    const replicas = await drover.replicasOf("test/vault");
    return replicas.length === 2 && replicas.every((r) => r.revision === 2 && r.state === "ready") && (await envOf(port, "API_KEY")) === CANARY_2;
  }, 30_000);

  // A config map change rolls out too, and its plan shows the change; a secret's plan would not show values.
  const plan = await drover.run(["plan", "-f", drover.write("vault-2.yaml", descriptor("blue"))]);
  keep("plan", plan.stdout + plan.stderr);
  assert.match(plan.stdout, /COLOUR/);
  assert.match(plan.stdout, /API_KEY/, "the secret's key is named as changed (the file still has the first value)");
  const applied = await drover.run(["apply", "-y", "-f", drover.write("vault-2.yaml", descriptor("blue"))]);
  keep("apply", applied.stdout + applied.stderr);
  await waitFor("the config map's rollout", async () => (await envOf(port, "COLOUR")) === "blue" && (await drover.replicasOf("test/vault")).every((r) => r.revision === 3 && r.state === "ready"), 30_000);

  for (const args of [["get"], ["ps"], ["describe", "test/vault"], ["events", "-n", "1000"], ["history", "test/vault"], ["diff", "test/vault", "1", "2"], ["diff", "test/vault", "2", "3"], ["secret", "list"], ["audit"], ["rollout", "status", "test/vault"], ["top", "--once"], ["get", "-o", "json"], ["describe", "test/vault", "-o", "json"], ["logs", "test/vault"]]) {
    const result = await drover.run(args);
    keep(`drover ${args.join(" ")}`, result.stdout + result.stderr);
  }
  for (const route of ["/api/v1/services", "/api/v1/services/test%2Fvault", "/api/v1/services/test%2Fvault/revisions", "/api/v1/events?limit=1000", "/api/v1/audit", "/api/v1/secrets", "/api/v1/replicas?usage=1", "/api/v1/info", "/api/v1/top", "/api/v1/services/test%2Fvault/diff?from=1&to=3", "/api/v1/services/test%2Fvault/rollout", "/metrics"]) {
    keep(`GET ${route}`, await (await fetch(`${drover.url}${route}`, { headers: drover.authorization() })).text());
  }
  const secretList = JSON.parse(outputs["GET /api/v1/secrets"]!) as { secrets: Array<{ name: string; keys: string[]; usedBy: string[] }> };
  assert.deepEqual(secretList.secrets, [{ ...secretList.secrets[0]!, name: "test/api-keys", keys: ["API_KEY"], usedBy: ["test/vault"] }]);
  // Everything drover keeps on disk: the database and its WAL, server.log, state files, master.key aside.
  for (const file of filesUnder(drover.home)) {
    if (file.includes(`${path.sep}replica.log`)) continue; // the workload's own output (hello never prints its environment)
    if (file.endsWith(".yaml")) continue; // this test's own descriptors, which the harness writes into the home
    keep(`file ${path.relative(drover.home, file)}`, fs.readFileSync(file).toString("latin1"));
  }
  assert.ok(Object.keys(outputs).some((k) => k.endsWith("drover.db")), "the database was read");
  for (const [what, text] of Object.entries(outputs)) {
    assert.ok(!text.includes(CANARY), `${what} holds the first secret value`);
    assert.ok(!text.includes(CANARY_2), `${what} holds the rotated secret value`);
  }
  process.stdout.write(`# secret canaries searched in ${Object.keys(outputs).length} outputs and files: none found\n`);
  assert.equal(fs.statSync(path.join(drover.home, "master.key")).mode & 0o777, 0o600);
});

test("a server with another master key refuses to start instead of losing secrets", async () => {
  const other = await Drover.create();
  try {
    await other.startServer();
    assert.equal((await other.run(["secret", "set", "kept", "--from-env", "K=HOME"])).code, 0);
    await other.killServer();
    const wrongKey = spawnSync(process.execPath, [path.join(process.cwd(), "dist/src/cli/main.js"), "server"], { env: { ...other.env, DROVER_MASTER_KEY: Buffer.alloc(32, 7).toString("base64") }, encoding: "utf8", timeout: 20_000 });
    assert.notEqual(wrongKey.status, 0);
    assert.match(wrongKey.stderr, /cannot decrypt secret default\/kept: the master key is not the one it was sealed with/);
    assert.doesNotMatch(wrongKey.stderr, /\n\s+at /, "no stack trace");
    await other.startServer();
    assert.match((await other.run(["secret", "list"])).stdout, /default\/kept\s+K\s+1/);
  } finally {
    await other.cleanup();
  }
});

test("a secret with a mount_path reaches a process replica as files: mode 0400, on a tmpfs, named by DROVER_MOUNT_<NAME>", async () => {
  const port = await freePort();
  const text = `apiVersion: drover/v1
kind: Secret
metadata: {name: tls-files, namespace: test}
string_data: {cert.pem: file-canary-value}
---
${helloService("filed", port, { extra: "    secrets: [{name: tls-files, mount_path: /etc/tls}]\n  health_checks:\n    liveness_probe: {exec: {command: [sh, -c, 'cat \"$DROVER_MOUNT_TLS_FILES/cert.pem\"']}, period: 200ms}\n" })}`;
  assert.equal((await drover.run(["up", "-f", drover.write("filed.yaml", text)])).code, 0);
  const folder = await envOf(port, "DROVER_MOUNT_TLS_FILES");
  assert.ok(folder, "the folder is named in the environment");
  assert.equal(await envOf(port, "cert.pem"), null, "not a variable");
  const file = path.join(folder!, "cert.pem");
  assert.equal(fs.readFileSync(file, "utf8"), "file-canary-value");
  assert.equal(fs.statSync(file).mode & 0o777, 0o400);
  assert.equal(fs.statfsSync(folder!).type, 0x01021994, "on a tmpfs");
  assert.ok(!folder!.startsWith(drover.home), "not under DROVER_HOME (a disk)");
  // An exec probe that prints the secret: its output is shown redacted, in describe and in events.
  const described = await waitFor("the probe's result in describe", async () => {
    const text = (await drover.run(["describe", "test/filed"])).stdout;
    return /liveness\s+passing\s+exec sh -c .*: exit code 0: \(redacted\)/.test(text) ? text : undefined;
  });
  assert.ok(!described.includes("file-canary-value"));
  const events = JSON.stringify(await drover.eventsOf("test/filed"));
  assert.ok(events.includes("(redacted)") && !events.includes("file-canary-value"), "events carry the probe's output redacted");
  assert.equal((await drover.run(["delete", "test/filed"])).code, 0);
  await waitFor("the files removed with the replica", () => !fs.existsSync(file));
});
