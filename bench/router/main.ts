/**
 * bench/router: requests per second and p99 through drover's router against going straight to
 * the replica, and against nginx (Debian's package, one worker, keep-alive to the upstream) in the
 * same run, same tool (wrk), same connections; then the same for a `protocol: tcp` port.
 * Writes bench/results/router.json.
 *
 *   npm run bench:router [-- --seconds 10 --connections 32]
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { tcpConnects } from "../../src/agent/probes/tcp.js";
import { Drover, freePort, REPO, waitFor } from "../../test/harness.js";
import { writeResult } from "../common.js";
import { wrk, type WrkResult } from "../wrk.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, connections: { type: "string", default: "32" } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);

function service(name: string, port: number, protocol: string): string {
  return `apiVersion: drover/v1
kind: Service
metadata: {name: ${name}, namespace: bench}
spec:
  command: [node, server.js]
  working_dir: ${path.join(REPO, "examples/hello")}
  networking: {ports: [{name: http, port: ${port}, protocol: ${protocol}}]}
`;
}

async function startNginx(listen: number, upstream: number): Promise<{ stop(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-nginx-"));
  fs.writeFileSync(path.join(dir, "nginx.conf"), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream replica { server 127.0.0.1:${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://replica;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}`);
  const child: ChildProcess = spawn("nginx", ["-c", path.join(dir, "nginx.conf"), "-p", dir], { stdio: ["ignore", "ignore", "inherit"] });
  child.once("error", (error) => process.stderr.write(`cannot run nginx (apt-get install -y nginx): ${error.message}\n`));
  await waitFor("nginx to listen", () => tcpConnects(listen, 500), 10_000);
  return {
    stop() {
      child.kill("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const drover = await Drover.create();
const results: Record<string, WrkResult> = {};
let nginx: { stop(): void } | undefined;
try {
  await drover.startServer();
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const text = `${service("http", httpPort, "http")}---\n${service("raw", tcpPort, "tcp")}`;
  const response = await fetch(`${drover.url}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json", ...drover.authorization() }, body: JSON.stringify({ files: [{ file: "bench.yaml", text, baseDir: REPO }] }) });
  if (!response.ok) throw new Error(await response.text());
  const replicas = await waitFor("both replicas to be ready", async () => {
    const { body } = await drover.api<{ replicas: Array<{ service: string; state: string; ports: Record<string, number> }> }>("/api/v1/replicas");
    return body.replicas.length === 2 && body.replicas.every((r) => r.state === "ready") ? body.replicas : undefined;
  }, 20_000);
  const httpReplica = replicas.find((r) => r.service === "bench/http")!.ports.http!;
  const tcpReplica = replicas.find((r) => r.service === "bench/raw")!.ports.http!;
  const nginxPort = await freePort();
  nginx = await startNginx(nginxPort, httpReplica);
  const run = async (label: string, port: number) => {
    await wrk(`http://127.0.0.1:${port}/`, { seconds: 2, connections: CONNECTIONS }); // warm-up
    results[label] = await wrk(`http://127.0.0.1:${port}/`, { seconds: SECONDS, connections: CONNECTIONS });
    const r = results[label]!;
    process.stdout.write(`${label.padEnd(22)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s   p50 ${r.latencyMs.p50.toFixed(2)}ms   p99 ${r.latencyMs.p99.toFixed(2)}ms   failed ${r.failed}\n`);
  };
  await run("direct (http replica)", httpReplica);
  await run("drover router (http)", httpPort);
  await run("nginx (1 worker)", nginxPort);
  await run("direct (tcp replica)", tcpReplica);
  await run("drover router (tcp)", tcpPort);
} finally {
  nginx?.stop();
  await drover.cleanup();
}
const ratio = (a: string, b: string) => results[a]!.requestsPerSecond / results[b]!.requestsPerSecond;
const summary = {
  seconds: SECONDS,
  connections: CONNECTIONS,
  httpRouterRatio: ratio("drover router (http)", "direct (http replica)"),
  nginxRatio: ratio("nginx (1 worker)", "direct (http replica)"),
  tcpRouterRatio: ratio("drover router (tcp)", "direct (tcp replica)"),
  targets: { httpRouterRatio: "≥ nginxRatio", tcpRouterRatio: 0.9 },
  results: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { requestsPerSecond: r.requestsPerSecond, latencyMs: r.latencyMs, failed: r.failed, requests: r.requests }])),
};
process.stdout.write(`\nHTTP: router ${summary.httpRouterRatio.toFixed(2)}× direct, nginx ${summary.nginxRatio.toFixed(2)}× direct (target: router ≥ nginx); TCP: router ${summary.tcpRouterRatio.toFixed(2)}× direct (target ≥ 0.9)\n`);
writeResult("router", summary);
