import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Drover, freePort, helloService, waitFor } from "./harness.js";

const drovers: Drover[] = [];
after(async () => Promise.all(drovers.map((d) => d.cleanup())));

async function started(): Promise<Drover> {
  const drover = await Drover.started();
  drovers.push(drover);
  return drover;
}

/** `drover get -o json` without the figures that say how the replicas are doing right now. */
async function desired(drover: Drover): Promise<unknown> {
  return drover.json<unknown[]>(["get"]);
}

test("backup → restore into a fresh home → drover up: the same services, revisions, secrets and audit trail, running", async () => {
  const source = await started();
  const [web, api] = [await freePort(), await freePort()];
  const text = `apiVersion: drover/v1
kind: Secret
metadata: {name: creds, namespace: test}
string_data: {TOKEN: restored-secret}
---
${helloService("web", web, { replicas: 2, env: { MESSAGE: "v1" } })}---
${helloService("api", api, { extra: "    secrets: [creds]\n" })}`;
  const first = await source.run(["up", "-f", source.write("app.yaml", text)]);
  assert.equal(first.code, 0, first.stderr);
  // A second revision, so history is part of what must come back.
  const second = await source.run(["up", "-f", source.write("app.yaml", text.replace("MESSAGE: \"v1\"", "MESSAGE: \"v2\""))]);
  assert.equal(second.code, 0, second.stderr);
  await waitFor("web's rollout to finish", async () => (await source.replicasOf("test/web")).every((r) => r.revision === 2 && r.state === "ready"));
  const before = await desired(source);
  const history = await source.json<unknown[]>(["history", "test/web"]);

  const file = path.join(source.home, "state.backup");
  const backup = await source.run(["backup", file, "--include-key"]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const snapshots = fs.readdirSync(path.join(source.home, "backups"));
  assert.equal(snapshots.length, 2, `a snapshot before each deploy: ${snapshots.join(", ")}`);
  await source.run(["down"]);

  const target = await Drover.create();
  drovers.push(target);
  const restored = await target.run(["restore", file]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /restored 2 services and 1 secrets from a backup of .* \(with its master key\)/);
  const again = await target.run(["restore", file]);
  assert.equal(again.code, 2);
  // A SQLite home, or a PostgreSQL store (the suite on PostgreSQL).
  assert.match(again.stderr, /has state already \(drover\.db\): restore into an empty home, or pass --force|has services already.*pass --force/);

  const up = await target.run(["up"]);
  assert.equal(up.code, 0, up.stderr);
  await waitFor("every restored service ready", async () => ((await desired(target)) as Array<{ status: string }>).every((s) => s.status === "ready"), 20_000);
  assert.deepEqual(await desired(target), before, "drover get -o json is the same");
  assert.deepEqual(await target.json<unknown[]>(["history", "test/web"]), history);
  assert.equal(((await (await fetch(`http://127.0.0.1:${api}/env/TOKEN`)).json()) as { value: string }).value, "restored-secret", "the secret opens with the restored key");
  assert.equal(((await (await fetch(`http://127.0.0.1:${web}/`)).json()) as { message: string }).message, "v2");
  assert.equal((await target.run(["audit", "verify"])).code, 0, "the audit trail came back whole");
});

test("restore refuses a garbled file, and a backup without its key where the key differs, changing nothing", async () => {
  const source = await started();
  assert.equal((await source.run(["secret", "set", "kept", "--from-env", "K=HOME"])).code, 0);
  const file = path.join(source.home, "nokey.backup");
  assert.equal((await source.run(["backup", file])).code, 0);
  const target = await Drover.create();
  drovers.push(target);
  const garbled = path.join(target.home, "garbled.backup");
  fs.writeFileSync(garbled, "not a backup");
  const bad = await target.run(["restore", garbled]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a drover backup/);
  // The target's own (different) key cannot open the source's secrets.
  fs.writeFileSync(path.join(target.home, "master.key"), `${Buffer.alloc(32, 3).toString("base64")}\n`, { mode: 0o600 });
  const wrong = await target.run(["restore", file]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /cannot decrypt secret default\/kept/);
  assert.ok(!fs.existsSync(path.join(target.home, "drover.db")), "nothing was written");
});
