/**
 * bench/overhead: drover's own CPU and memory with N running replicas (default 100), sampling
 * host and replicas at the default interval, with /metrics scraped every 15 s as a Prometheus
 * would. Target (DESIGN.md 6): ≤ 1% of one core, ≤ 80 MB resident. Writes
 * bench/results/overhead.json.
 *
 *   npm run bench:overhead [-- --replicas 100 --seconds 60]
 */
import { parseArgs } from "node:util";
import { Drover, freePort, helloService, REPO, waitFor } from "../../test/harness.js";
import { processCost, writeResult } from "../common.js";

const { values } = parseArgs({ options: { replicas: { type: "string", default: "100" }, seconds: { type: "string", default: "60" } } });
const REPLICAS = Number(values.replicas);
const SECONDS = Number(values.seconds);

const drover = await Drover.create();
try {
  await drover.startServer();
  const ports = new Set<number>();
  while (ports.size < REPLICAS) ports.add(await freePort());
  const text = [...ports].map((port, i) => helloService(`svc-${i}`, port, { namespace: "bench" })).join("---\n");
  const response = await fetch(`${drover.url}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json", ...drover.authorization() }, body: JSON.stringify({ files: [{ file: "bench.yaml", text, baseDir: REPO }] }) });
  if (!response.ok) throw new Error(`apply failed: ${await response.text()}`);
  await waitFor("every replica ready", async () => {
    const { body } = await drover.api<{ replicas: Array<{ state: string }> }>("/api/v1/replicas");
    return body.replicas.filter((r) => r.state === "ready").length === REPLICAS;
  }, 120_000, 500);
  let scrapes = 0;
  let scrapeBytes = 0;
  const scraping = async () => {
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      const metrics = await fetch(`${drover.url}/metrics`, { headers: drover.authorization() });
      scrapeBytes = (await metrics.text()).length;
      scrapes++;
      await new Promise((resolve) => setTimeout(resolve, Math.min(15_000, Math.max(0, end - Date.now()))));
    }
  };
  const quiet = await processCost(drover.server!.pid!, SECONDS);
  const scraped = await processCost(drover.server!.pid!, SECONDS, scraping);
  const result = { replicas: REPLICAS, seconds: SECONDS, samplingIntervalMs: 5000, quiet, withScrapesEvery15s: { ...scraped, scrapes, scrapeBytes }, targets: { cpuPercent: 1, rssMb: 80 } };
  process.stdout.write(
    `drover with ${REPLICAS} replicas, sampling every 5 s: ${quiet.cpuPercent.toFixed(2)}% of one core, ${quiet.rssMb.toFixed(1)} MB resident; ` +
      `with /metrics scraped every 15 s (${(scrapeBytes / 1024).toFixed(0)} KiB each): ${scraped.cpuPercent.toFixed(2)}%, ${scraped.rssMb.toFixed(1)} MB (targets ≤ 1%, ≤ 80 MB)\n`,
  );
  writeResult("overhead", result);
} finally {
  await drover.cleanup();
}
