import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkHostKey } from "./known-hosts.js";

test("known_hosts: plain, hashed and [host]:port entries; an unknown host and a changed key are refused with what to do", (t) => {
  const key = crypto.randomBytes(51);
  const other = crypto.randomBytes(51);
  const salt = crypto.randomBytes(20);
  const hashed = `|1|${salt.toString("base64")}|${crypto.createHmac("sha1", salt).update("10.0.0.9").digest("base64")}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-kh-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "known_hosts");
  fs.writeFileSync(file, [`# comment`, `10.0.0.5,web1 ssh-ed25519 ${key.toString("base64")}`, `[10.0.0.6]:2222 ssh-ed25519 ${key.toString("base64")}`, `${hashed} ssh-ed25519 ${key.toString("base64")}`, `@revoked 10.0.0.7 ssh-ed25519 ${key.toString("base64")}`, ""].join("\n"));
  assert.deepEqual(checkHostKey(file, "10.0.0.5", 22, key), { ok: true });
  assert.deepEqual(checkHostKey(file, "web1", 22, key), { ok: true });
  assert.deepEqual(checkHostKey(file, "10.0.0.6", 2222, key), { ok: true });
  assert.deepEqual(checkHostKey(file, "10.0.0.9", 22, key), { ok: true }, "hashed");
  const changed = checkHostKey(file, "10.0.0.5", 22, other);
  assert.ok(!changed.ok && /^the host key of 10\.0\.0\.5 \(SHA256:[A-Za-z0-9+/]+\) does not match .*known_hosts: refusing to connect/.test(changed.reason), JSON.stringify(changed));
  const unknown = checkHostKey(file, "10.0.0.6", 22, key);
  assert.ok(!unknown.ok && /^host 10\.0\.0\.6 is not in .*ssh-keyscan -p 22 10\.0\.0\.6 >>/.test(unknown.reason), "port 22 and 2222 are different entries");
  assert.ok(!checkHostKey(file, "10.0.0.7", 22, key).ok, "markers are not trusted entries");
  assert.ok(!checkHostKey(path.join(file, "nope"), "10.0.0.5", 22, key).ok);
});
