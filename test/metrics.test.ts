import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Drover, freePort, helloService, loadDuring, REPO, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
  // Sample every 300 ms, so host and energy figures exist within the test.
  process.env.DROVER_METRICS_INTERVAL_MS = "300";
  drover = await Drover.started();
});
after(async () => drover.cleanup());

const promtool = spawnSync("promtool", ["--version"]).status === 0;

async function scrape(): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`${drover.url}/metrics`, { headers: drover.authorization() });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

test("/metrics: services, replicas, probes, router and rollouts in Prometheus form, labelled", async () => {
  const port = await freePort();
  const extra = "  health_checks:\n    readiness_probe: {http_get: {path: /ready, port: http}, period: 200ms}\n";
  const file = drover.write("metrics.yaml", helloService("shop", port, { replicas: 2, extra, namespace: "obs" }));
  assert.equal((await drover.run(["up", "-f", file])).code, 0);
  for (let i = 0; i < 20; i++) await fetch(`http://127.0.0.1:${port}/`);
  assert.equal((await fetch(`${drover.url}/metrics`)).status, 401, "metrics need the token");
  const { status, type, text } = await waitFor("probe results and energy figures in the metrics", async () => {
    const s = await scrape();
    return s.text.includes("drover_probe_success{") && s.text.includes("drover_replica_energy_joules_total{") ? s : undefined;
  });
  assert.equal(status, 200);
  assert.match(type, /^text\/plain; version=0\.0\.4/);
  assert.match(text, /^drover_service_replicas_ready\{namespace="obs",service="shop"\} 2$/m);
  assert.match(text, /^drover_replica_state\{namespace="obs",service="shop",revision="1",replica="shop-\w+",node="local",state="ready"\} 1$/m);
  assert.match(text, /^drover_replica_cpu_seconds_total\{[^}]*replica="shop-\w+"[^}]*\} [\d.e-]+$/m);
  assert.match(text, /^drover_router_requests_total\{namespace="obs",service="shop",revision="1",node="local",code="2xx"\} 20$/m);
  assert.match(text, /^drover_router_request_duration_seconds_bucket\{[^}]*le="\+Inf"\} 20$/m);
  assert.match(text, /^drover_probe_success\{[^}]*probe="readiness"\} 1$/m);
  assert.match(text, /^drover_process_resident_memory_bytes \d+/m, "drover's own process");
  assert.match(text, /^drover_replica_open_fds\{[^}]*replica="shop-\w+"[^}]*\} [1-9]\d*$/m);
  assert.match(text, /^drover_replica_threads\{[^}]*\} [1-9]\d*$/m, "node runs several threads");
  assert.match(text, /^drover_host_cpu_seconds_total\{node="local",cpu="0",mode="user"\} [\d.]+$/m);
  assert.match(text, /^drover_host_memory_total_bytes\{node="local"\} \d+$/m);
  assert.match(text, /^drover_host_filesystem_free_bytes\{node="local",path="[^"]+"\} \d+$/m);
  // This machine has no readable RAPL: every energy figure says it is an estimate.
  const source = fs.existsSync("/sys/class/powercap/intel-rapl:0/energy_uj") ? "rapl" : "model";
  assert.match(text, new RegExp(`^drover_host_power_watts\\{node="local",source="${source}"\\} [\\d.]+$`, "m"));
  assert.match(text, new RegExp(`^drover_replica_energy_joules_total\\{[^}]*source="${source}"\\} [\\d.e-]+$`, "m"));
});

test("promtool check metrics accepts a live /metrics", { skip: promtool ? false : "promtool is not installed (apt-get install -y prometheus)" }, async () => {
  const { text } = await scrape();
  assert.match(text, /drover_replica_state/, "scraped with replicas running");
  const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
});

test("/healthz and /readyz answer without a token", async () => {
  const health = await fetch(`${drover.url}/healthz`);
  assert.equal(health.status, 200);
  const ready = await fetch(`${drover.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(((await ready.json()) as { status: string }).status, "ready");
});

const prometheusInstalled = spawnSync("prometheus", ["--version"]).status === 0;

test("a real Prometheus scrapes drover and answers a PromQL query about a running service", { skip: prometheusInstalled ? false : "prometheus is not installed (apt-get install -y prometheus)" }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-prometheus-"));
  const port = await freePort();
  const target = new URL(drover.url);
  fs.writeFileSync(path.join(dir, "token"), fs.readFileSync(path.join(drover.home, "api.token")));
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: drover
    metrics_path: /metrics
    authorization: {credentials_file: ${path.join(dir, "token")}}
    static_configs: [{targets: ["${target.host}"]}]
`,
  );
  const prometheus = spawn("prometheus", [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  prometheus.stderr.on("data", (chunk) => (log += chunk));
  t.after(async () => {
    prometheus.kill("SIGTERM");
    await new Promise((resolve) => prometheus.once("exit", resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const query = `drover_service_replicas_ready{namespace="obs",service="shop"}`;
  const value = await waitFor("Prometheus to answer the query", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`).catch(() => undefined);
    if (!response?.ok) return undefined;
    const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
    return body.data.result[0]?.value[1];
  }, 30_000, 250).catch((error) => {
    throw new Error(`${error.message}\n${log.split("\n").slice(-5).join("\n")}`);
  });
  assert.equal(value, "2");
  const up = await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('up{job="drover"}')}`)).json() as { data: { result: Array<{ value: [number, string] }> } };
  assert.equal(up.data.result[0]?.value[1], "1", "the scrape itself succeeds (token accepted)");
});

test("history: the last hour's samples per service (rps, CPU, memory, watts) over the API, and drover top", async () => {
  const port = await freePort();
  const file = drover.write("history.yaml", helloService("busy", port, { namespace: "obs" }));
  assert.equal((await drover.run(["up", "-f", file])).code, 0);
  // Load until the samples (every 300 ms here) have seen it, and the replica's own figures (from its second sample on).
  const { value: history } = await loadDuring(port, waitFor("points with traffic, CPU, power and memory", async () => {
    const { body } = await drover.api<{ source: string; points: Array<{ requestsPerSecond: number; memoryBytes: number; watts: number; cpuCores: number }> }>("/api/v1/services/obs%2Fbusy/metrics?since=5m&step=1s");
    const complete = body.points.some((p) => p.requestsPerSecond > 5) && body.points.some((p) => p.cpuCores > 0 && p.watts > 0) && body.points.at(-1)!.memoryBytes > 0;
    return complete ? body : undefined;
  }));
  assert.equal(history.source, "samples");
  // A replica is in the figures from its second sample on: the newest points have its memory.
  assert.ok(history.points.at(-1)!.memoryBytes > 0, "memory in the newest point");
  assert.ok(history.points.some((p) => p.cpuCores > 0 && p.watts > 0));
  const bad = await drover.api<{ message: string }>("/api/v1/services/obs%2Fbusy/metrics?since=yesterday");
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /^since: expected a duration such as 15m or epoch milliseconds/);
  const top = await drover.run(["top", "--once"]);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /^host: \d+% busy, [\d.]+ W \((measured, RAPL|estimated, model)\)$/m);
  assert.match(top.stdout, /^obs\/busy\s+1\/1\s+[\d.]+%\s+[\d.]+\w+\s+[\d.]+\s+[\d.]+\s+([\d.]+ms|-)\s+([\d.]+%|-)\s+([\d.]+|-)$/m);
  assert.match(top.stdout, /^\s+busy-\w+\s+ready\s+[\d.]+%/m);
});

test("the Grafana dashboard queries only metrics drover exports", async () => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(REPO, "deploy/grafana/drover.json"), "utf8")) as { panels: Array<{ targets: Array<{ expr: string }> }>; templating: { list: Array<{ name: string; type: string }> } };
  assert.ok(dashboard.templating.list.some((v) => v.type === "datasource"), "a templated Prometheus datasource");
  // A finished rollout, so the rollout families have samples.
  assert.equal((await drover.run(["restart", "busy"])).code, 0);
  const { text } = await waitFor("a finished rollout in the metrics", async () => {
    const s = await scrape();
    return s.text.includes("drover_rollouts_total{") ? s : undefined;
  });
  const exported = new Set([...text.matchAll(/^# TYPE (\w+) (\w+)$/gm)].flatMap(([, name, type]) => (type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!])));
  const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(drover_\w+)/g)].map((m) => m[1]!))));
  assert.ok(used.size >= 10);
  assert.deepEqual([...used].filter((name) => !exported.has(name)), []);
});
