import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { CLI, Drover, freePort, helloService, waitFor } from "./harness.js";

let drover: Drover;
let port: number;
before(async () => {
  drover = await Drover.started();
  port = await freePort();
  const config = "apiVersion: drover/v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: test}\ndata: {GREETING: bonjour, LEVEL: 3}\n---\n";
  const secret = "apiVersion: drover/v1\nkind: Secret\nmetadata: {name: keys, namespace: test}\ndata: {TOKEN: czNjcjN0}\n---\n";
  const service = helloService("echo", port, { env: { LEVEL: "from-descriptor" }, extra: "    config_maps: [settings]\n    secrets: [keys]\n" });
  const applied = await drover.run(["up", "-f", drover.write("echo.yaml", config + secret + service), "--timeout", "30s"]);
  assert.equal(applied.code, 0, applied.stderr);
});
after(async () => drover.cleanup());

/** Runs a following CLI command until `until` matches its output, then stops it. */
async function follow(args: string[], trigger: () => Promise<unknown>, until: RegExp): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { env: drover.env });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  try {
    // Both commands print their last past line (-n 1) once connected; only then is the trigger safe.
    await waitFor(`${args.join(" ")} to start streaming`, () => output.length > 0, 10_000);
    await trigger();
    await waitFor(`${args.join(" ")} to show ${until}`, () => until.test(output), 15_000);
    return output;
  } finally {
    child.kill();
  }
}

async function get(path: string): Promise<{ value: string | null }> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).json() as Promise<{ value: string | null }>;
}

test("config maps and secrets reach the replica's environment; the descriptor's environment wins", async () => {
  assert.equal((await get("/env/GREETING")).value, "bonjour");
  assert.equal((await get("/env/LEVEL")).value, "from-descriptor");
  assert.equal((await get("/env/TOKEN")).value, "s3cr3t");
  assert.equal((await get("/env/DROVER_SERVICE")).value, "echo");
  assert.equal((await get("/env/DROVER_NAMESPACE")).value, "test");
  assert.match((await get("/env/PORT")).value ?? "", /^\d+$/);
  assert.equal((await get("/env/DROVER_PORT_HTTP")).value, (await get("/env/PORT")).value);
});

test("logs -f follows new output of the replicas", async () => {
  const output = await follow(["logs", "-f", "-n", "1", "echo"], () => fetch(`http://127.0.0.1:${port}/crash`, { method: "POST" }), /crashing with code 1[\s\S]*listening on/);
  assert.match(output, /crashing with code 1/);
});

test("events -f streams events as they happen", async () => {
  const output = await follow(["events", "-f", "-n", "1", "-s", "echo"], () => drover.run(["scale", "echo", "2"]), /ServiceScaled[\s\S]*ReplicaReady/);
  assert.match(output, /ServiceScaled\s+test\/echo\s+Scaled: desired replicas 2/);
  assert.match(output, /ReplicaStarted\s+test\/echo echo-\w+\s+Started: pid \d+, ports http=\d+/);
});
