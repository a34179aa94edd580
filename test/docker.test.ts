import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import type { ReplicaRecord, ServiceSummary } from "../src/contract/index.js";
import { containersOf, dockerUnavailable, Drover, freePort, helloService, loadDuring, loadSummary, REPO, waitFor } from "./harness.js";

const skip = dockerUnavailable() ?? false;
if (skip) process.stdout.write(`# docker tests skipped: ${skip}\n`);

let drover: Drover;
before(async () => {
  if (!skip) drover = await Drover.started();
});
after(async () => drover?.cleanup());

interface Inspect {
  Id: string;
  Config: { User: string; Labels: Record<string, string>; Env: string[] };
  HostConfig: Record<string, unknown> & { PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> };
  State: { Running: boolean };
}

function inspect(id: string): Inspect {
  const result = spawnSync("docker", ["inspect", id], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout) as Inspect[])[0]!;
}

function dockerExec(id: string, ...command: string[]): string {
  const result = spawnSync("docker", ["exec", id, ...command], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

const agentDir = () => path.join(drover.home, "agent");
/** The container that runs a replica now, found by the label drover gives it. */
function containerOf(replica: ReplicaRecord): string {
  const listed = spawnSync("docker", ["ps", "-q", "--no-trunc", "--filter", `label=dev.drover.replica=${replica.id}`], { encoding: "utf8" });
  return listed.stdout.trim();
}
const summary = async (name: string) => (await drover.json<ServiceSummary[]>(["get"])).find((s) => s.name === name)!;

/** A service of the hello image; `health` and `stop` replace the defaults (YAML keys must be unique). */
function webService(name: string, port: number, options: { tag?: string; replicas?: number; extra?: string; health?: string; stop?: string } = {}): string {
  return `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: dk}
spec:
  image: {repository: drover-test/hello, tag: "${options.tag ?? "1"}", pullPolicy: Never}
  replicas: ${options.replicas ?? 2}
  networking: {ports: [{name: http, port: ${port}}]}
  stop: ${options.stop ?? "{grace_period: 3s}"}
  health_checks:
${options.health ?? "    readiness_probe: {http_get: {path: /ready, port: http}, period: 200ms, failure_threshold: 3}"}
${options.extra ?? ""}`;
}

test("a descriptor mixing process and docker services comes up; config maps as env, secrets as tmpfs files, exec probes through docker exec", { skip }, async () => {
  const [apiPort, webPort] = [await freePort(), await freePort()];
  const text = [
    helloService("api", apiPort, { namespace: "dk" }),
    `apiVersion: drover/v1
kind: ConfigMap
metadata: {name: web-config, namespace: dk}
data: {GREETING: hello-from-config}
---
apiVersion: drover/v1
kind: Secret
metadata: {name: web-secret, namespace: dk}
string_data: {password: pa55word}
---
${webService("web", webPort, {
  extra: `  configuration:
    environment: {MESSAGE: docker-web}
    config_maps: [web-config]
    secrets: [{name: web-secret, mount_path: /run/secrets/web}]
  security: {run_as_user: 1000, run_as_group: 1000}
`,
  health: `    readiness_probe: {http_get: {path: /ready, port: http}, period: 200ms}
    liveness_probe: {exec: {command: [cat, /run/secrets/web/password]}, period: 300ms}`,
})}`,
  ].join("---\n");
  const up = await drover.run(["up", "-f", drover.write("mixed.yaml", text)]);
  assert.equal(up.code, 0, up.stderr);

  const answer = (await (await fetch(`http://127.0.0.1:${webPort}/`)).json()) as { message: string; replica: string };
  assert.equal(answer.message, "docker-web");
  assert.equal(((await (await fetch(`http://127.0.0.1:${webPort}/env/GREETING`)).json()) as { value: string }).value, "hello-from-config");
  // A mounted secret is a file, not a variable.
  assert.equal(((await (await fetch(`http://127.0.0.1:${webPort}/env/password`)).json()) as { value: string | null }).value ?? null, null);
  assert.equal(((await (await fetch(`http://127.0.0.1:${apiPort}/`)).json()) as { service: string }).service, "api");

  const replicas = await drover.replicasOf("dk/web");
  assert.equal(replicas.length, 2);
  const id = containerOf(replicas[0]!);
  assert.equal(dockerExec(id, "cat", "/run/secrets/web/password"), "pa55word");
  assert.equal(dockerExec(id, "stat", "-c", "%a %u", "/run/secrets/web/password"), "400 1000");
  assert.match(dockerExec(id, "cat", "/proc/mounts"), /\/run\/secrets\/web tmpfs ro/);
  const described = await drover.run(["describe", "dk/web"]);
  assert.match(described.stdout, /liveness\s+passing\s+exec cat \/run\/secrets\/web\/password: exit code 0/);
  assert.ok(described.stdout.includes(`container ${id.slice(0, 12)} (drover-`), "describe names each replica's container");
  const logs = await drover.run(["logs", "dk/web"]);
  assert.match(logs.stdout, /listening on \d+/);
});

test("resource and security settings reach the container (read back with docker inspect)", { skip }, async () => {
  const port = await freePort();
  const extra = `  resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}
  security:
    run_as_user: 1001
    run_as_group: 1002
    capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
    security_context: {read_only_root_filesystem: true}
`;
  const text = webService("secure", port, { replicas: 1, extra, stop: "{signal: SIGINT, grace_period: 2s}" });
  assert.equal((await drover.run(["up", "-f", drover.write("secure.yaml", text)])).code, 0);
  const [replica] = await drover.replicasOf("dk/secure");
  const info = inspect(containerOf(replica!));
  const host = info.HostConfig;
  assert.equal(host.NanoCpus, 500_000_000);
  assert.equal(host.Memory, 128 * 1024 * 1024);
  assert.equal(host.MemorySwap, 128 * 1024 * 1024);
  assert.equal(host.MemoryReservation, 64 * 1024 * 1024);
  assert.equal(host.CpuShares, 256);
  assert.deepEqual(host.CapDrop, ["ALL"]);
  assert.deepEqual(host.CapAdd, ["NET_BIND_SERVICE"]);
  assert.equal(host.ReadonlyRootfs, true);
  assert.deepEqual(host.SecurityOpt, ["no-new-privileges:true"]);
  assert.equal(host.Privileged, false);
  assert.equal(info.Config.User, "1001:1002");
  assert.equal((info.Config as { StopSignal?: string }).StopSignal, "SIGINT");
  assert.deepEqual(host.PortBindings[`${port}/tcp`], [{ HostIp: "127.0.0.1", HostPort: String(replica!.ports.http) }]);
  assert.equal(info.Config.Labels["dev.drover.service"], "dk/secure");
  assert.equal(info.Config.Labels["dev.drover.replica"], replica!.id);
  // ...and are in force inside: the root filesystem refuses writes, the process is not root.
  const id = info.Id;
  assert.equal(dockerExec(id, "id", "-u"), "1001");
  assert.notEqual(spawnSync("docker", ["exec", id, "touch", "/app/x"]).status, 0);
  assert.match(dockerExec(id, "cat", "/proc/1/status"), /NoNewPrivs:\s+1/);
  // Dropped ALL, added NET_BIND_SERVICE (bit 10): the bounding set holds that one capability only.
  assert.match(dockerExec(id, "cat", "/proc/1/status"), /CapBnd:\s+0000000000000400/);
});

test("docker replicas restart on crash, report metrics and are re-adopted after kill -9 of drover", { skip }, async () => {
  const port = await freePort();
  assert.equal((await drover.run(["up", "-f", drover.write("keep.yaml", webService("keep", port))])).code, 0);
  const [first] = await drover.replicasOf("dk/keep");
  const crashed = containerOf(first!);
  await fetch(`http://127.0.0.1:${first!.ports.http}/crash`, { method: "POST" });
  const restarted = await waitFor("the crashed replica to be ready again", async () => {
    const replica = (await drover.replicasOf("dk/keep")).find((r) => r.id === first!.id)!;
    return replica.state === "ready" && replica.restarts === 1 ? replica : undefined;
  });
  assert.equal(restarted.lastExit?.code, 1);
  assert.notEqual(containerOf(restarted), crashed, "a restart is a new container");
  assert.equal(containersOf(agentDir()).includes(crashed), false, "the crashed container was removed");

  // Metrics: CPU time and memory from the engine's stats, in ps and in the Prometheus metrics.
  const withUsage = await waitFor("usage of the docker replicas", async () => {
    const rows = await drover.json<Array<ReplicaRecord & { usage: { memoryBytes: number; cpuSeconds: number; source: string; networkReceivedBytes?: number } | null }>>(["ps", "dk/keep"]);
    return rows.every((r) => r.usage && r.usage.memoryBytes > 0) ? rows : undefined;
  });
  assert.equal(withUsage[0]!.usage!.source, "docker");
  assert.ok(withUsage[0]!.usage!.networkReceivedBytes! > 0, "network bytes counted");
  const metrics = await waitFor("replica metrics on /metrics", async () => {
    const text = await (await fetch(`${drover.url}/metrics`, { headers: drover.authorization() })).text();
    return /drover_replica_memory_bytes\{[^}]*service="keep"[^}]*\} [1-9]/.test(text) ? text : undefined;
  }, 20_000, 500);
  assert.match(metrics, /drover_replica_cpu_seconds_total\{[^}]*service="keep"/);

  // kill -9 of drover: the containers go on and the next drover adopts them.
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  const before = (await drover.replicasOf("dk/keep")).sort(byId).map((r) => ({ id: r.id, container: containerOf(r), restarts: r.restarts }));
  const running = containersOf(agentDir(), false);
  await drover.killServer();
  assert.deepEqual(containersOf(agentDir(), false), running, "containers outlive drover");
  await drover.startServer();
  const after = await waitFor("both replicas adopted and ready", async () => {
    const replicas = await drover.replicasOf("dk/keep");
    return replicas.length === 2 && replicas.every((r) => r.state === "ready") ? replicas : undefined;
  });
  assert.deepEqual(after.sort(byId).map((r) => ({ id: r.id, container: containerOf(r), restarts: r.restarts })), before, "same containers, no restarts");
  assert.deepEqual(containersOf(agentDir(), false), running);
  // The API answers before the store is reconciled with what runs: wait for the adoption itself.
  await waitFor("both replicas adopted", async () => (await drover.eventsOf("dk/keep")).filter((e) => e.type === "ReplicaAdopted").length === 2);
  assert.equal((await (await fetch(`http://127.0.0.1:${port}/`)).json() as { service: string }).service, "keep");
  // Logs written before and after the restart of drover, each line once: one "listening" per start.
  for (const replica of after) {
    const lines = (await drover.run(["logs", `dk/keep/${replica.id}`])).stdout.split("\n").filter((l) => l.includes("listening on"));
    assert.equal(lines.length, replica.restarts + 1, lines.join("\n"));
  }
});

test("a rolling update of a docker service under load loses no request", { skip }, async () => {
  const port = await freePort();
  const deployment = "  deployment: {strategy: rolling, rolling: {max_surge: 1, max_unavailable: 0}}\n";
  assert.equal((await drover.run(["up", "-f", drover.write("roll-1.yaml", webService("roll", port, { replicas: 3, extra: deployment }))])).code, 0);
  const rolled = (async () => {
    const applied = await drover.run(["apply", "-y", "-f", drover.write("roll-2.yaml", webService("roll", port, { tag: "2", replicas: 3, extra: deployment }))]);
    assert.equal(applied.code, 0, applied.stderr);
    return waitFor("the rollout to finish", async () => {
      const replicas = await drover.replicasOf("dk/roll");
      return replicas.length === 3 && replicas.every((r) => r.revision === 2 && r.state === "ready") ? replicas : undefined;
    }, 60_000);
  })();
  const load = await loadDuring(port, rolled);
  assert.ok(load.requests > 50, `only ${load.requests} requests`);
  assert.equal(load.failed, 0, `failed requests: ${loadSummary(load)}`);
  assert.ok(load.revisions["1"]! > 0 && load.revisions["2"]! > 0, JSON.stringify(load.revisions));
  const answer = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { message: string };
  assert.equal(answer.message, "v2", "the new image answers");
  assert.equal(containersOf(agentDir(), false).length >= 3, true);
  process.stdout.write(`# docker rolling update: ${load.requests} requests, 0 failed; by revision ${JSON.stringify(load.revisions)}\n`);
});

test("an OOM-killed container is reported as such", { skip }, async () => {
  const port = await freePort();
  const extra = "  resources: {limits: {memory: 48Mi}}\n  configuration: {environment: {ALLOC_MB: \"200\"}}\n  restart: {policy: never}\n";
  await drover.run(["apply", "-y", "-f", drover.write("oom.yaml", webService("oom", port, { replicas: 1, extra }))]);
  const replica = await waitFor("the replica to be OOM-killed", async () => (await drover.replicasOf("dk/oom")).find((r) => r.lastExit?.oomKilled), 30_000);
  assert.equal(replica.lastExit!.signal, "SIGKILL");
  assert.match((await drover.run(["ps", "dk/oom"])).stdout, /SIGKILL \(OOM\)/);
});

test("the shared fixture applied as it is ends promptly as image_unavailable, disturbing nothing else", { skip }, async () => {
  const port = await freePort();
  assert.equal((await drover.run(["up", "-f", drover.write("bystander.yaml", webService("bystander", port, { replicas: 1 }))])).code, 0);
  const identity = (replicas: ReplicaRecord[]) => replicas.map((r) => ({ id: r.id, pid: r.pid, state: r.state, restarts: r.restarts }));
  const bystander = identity(await drover.replicasOf("dk/bystander"));
  const fixture = path.join(REPO, "../shared/fixtures/mohhos-service.yaml");
  const started = Date.now();
  const up = await drover.run(["up", "-f", fixture]);
  const took = Date.now() - started;
  assert.equal(up.code, 1);
  assert.match(up.stderr, /mohhos-ai\/ai-inference-service is image_unavailable: image mohhos\/ai-inference:2\.1\.0 is not available: it is not on this machine and pulling it failed: /);
  // The references it makes to things that do not exist are warnings with their place in the file.
  assert.match(up.stderr, /mohhos-service\.yaml:81:7 warning: spec\.configuration\.config_maps\[0\]: no config map "ai-model-config"/);
  assert.ok(took < 10_000, `took ${took} ms`);
  const service = await summary("mohhos-ai/ai-inference-service");
  assert.equal(service.status, "image_unavailable");
  assert.match(service.problem!, /pulling it failed/);
  assert.equal((await drover.replicasOf("mohhos-ai/ai-inference-service")).length, 0, "no replica was started");
  const events = await drover.eventsOf("mohhos-ai/ai-inference-service");
  assert.equal(events.filter((e) => e.type === "ImageUnavailable").length, 1);
  assert.deepEqual(identity(await drover.replicasOf("dk/bystander")), bystander, "the other service is untouched");
  assert.equal((await drover.run(["delete", "mohhos-ai/ai-inference-service"])).code, 0);
});

test("a docker service on a machine without the image and pull policy Never says so", { skip }, async () => {
  const port = await freePort();
  const text = webService("missing", port, { replicas: 1 }).replace("repository: drover-test/hello", "repository: drover-test/not-built");
  const up = await drover.run(["up", "-f", drover.write("missing.yaml", text)]);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /image drover-test\/not-built:1 is not available: it is not on this machine and pull_policy is Never/);
});

test("a docker service with a tcp port and no probes: ready when its port accepts, reached through the tcp router", { skip }, async () => {
  const port = await freePort();
  const text = `apiVersion: drover/v1
kind: Service
metadata: {name: plain, namespace: dk}
spec:
  image: {repository: drover-test/hello, tag: "1", pullPolicy: Never}
  replicas: 2
  networking: {ports: [{name: raw, port: ${port}, protocol: TCP}]}
  configuration: {environment: {START_DELAY: "0.5"}}
  stop: {grace_period: 2s}
`;
  const up = await drover.run(["up", "-f", drover.write("plain.yaml", text)]);
  assert.equal(up.code, 0, up.stderr);
  const replicas = await drover.replicasOf("dk/plain");
  // Started 0.5 s late: ready only once the container itself listens (not when the engine's proxy does).
  for (const r of replicas) assert.ok(r.readyAt! - r.startedAt! >= 450, `ready ${r.readyAt! - r.startedAt!} ms after its start`);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const answer = (await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } })).json()) as { replica: string };
    seen.add(answer.replica);
  }
  assert.deepEqual([...seen].sort(), replicas.map((r) => r.id).sort(), "connections reach both containers");
});
