import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Drover, freePort, helloService, waitFor } from "./harness.js";

let drover: Drover;
before(async () => {
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
  const { status, type, text } = await waitFor("probe results in the metrics", async () => {
    const s = await scrape();
    return s.text.includes("drover_probe_success{") ? s : undefined;
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
