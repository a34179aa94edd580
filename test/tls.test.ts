import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CLI, Drover, freePort, waitFor } from "./harness.js";

const started: ChildProcess[] = [];
const drovers: Drover[] = [];
after(async () => {
  for (const child of started) child.kill("SIGKILL");
  await Promise.all(drovers.map((d) => d.cleanup()));
});

function server(drover: Drover, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, "server", ...args], { env: drover.env, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  return child;
}

test("the API over TLS: HTTPS with the given certificate, the CLI trusting it through DROVER_CA_CERT; plain HTTP gets nothing", async () => {
  const drover = await Drover.create();
  drovers.push(drover);
  const cert = path.join(drover.home, "cert.pem");
  const key = path.join(drover.home, "key.pem");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
  assert.equal(made.status, 0, made.stderr);
  const port = await freePort();
  Object.assign(drover.env, { DROVER_ADDR: `https://127.0.0.1:${port}`, DROVER_CA_CERT: cert });
  server(drover, ["--listen", `127.0.0.1:${port}`, "--tls-cert", cert, "--tls-key", key]);
  const listed = await waitFor("the CLI to reach the server over HTTPS", async () => {
    const result = await drover.run(["get", "-o", "json"]);
    return result.code === 0 ? result : undefined;
  });
  assert.equal(listed.stdout.trim(), "[]");
  const plain = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((r) => r.status, (error: Error) => error.message);
  assert.notEqual(plain, 200, "plain HTTP is not answered as the API");
  delete drover.env.DROVER_CA_CERT;
  const untrusted = await drover.run(["get"]);
  assert.notEqual(untrusted.code, 0, "without the CA the self-signed certificate is refused");
});

test("listening beyond loopback needs TLS or --insecure", async () => {
  const drover = await Drover.create();
  drovers.push(drover);
  const port = await freePort();
  const refused = spawnSync(process.execPath, [CLI, "server", "--listen", `0.0.0.0:${port}`], { env: drover.env, encoding: "utf8", timeout: 20_000 });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /listening on 0\.0\.0\.0 lets other machines reach the API: give it TLS \(--tls-cert and --tls-key/);
  assert.ok(!fs.existsSync(path.join(drover.home, "drover.db")), "nothing was started");
  const insecure = server(drover, ["--listen", `0.0.0.0:${port}`, "--insecure"]);
  await waitFor("the insecure server to answer", async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok);
  insecure.kill("SIGTERM");
});
