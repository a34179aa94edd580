/**
 * bench/dashboard: the web dashboard's bundle size, and how long the overview takes to render
 * --services services once their data has arrived (measured in the page: from the API answers
 * to the next frame after they are on screen), over --rounds page loads in Chromium.
 *
 *   npm run bench:dashboard [-- --services 100 --rounds 5]
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { Drover, freePort, helloService, REPO, waitFor } from "../../test/harness.js";
import { applyText, machine, median, writeResult } from "../common.js";

const { values } = parseArgs({ options: { services: { type: "string", default: "100" }, rounds: { type: "string", default: "5" } } });
const SERVICES = Number(values.services);
const ROUNDS = Number(values.rounds);

function bundle(): Array<{ file: string; bytes: number; gzipBytes: number }> {
  const dir = path.join(REPO, "dist/web/assets");
  return fs.readdirSync(dir).map((file) => {
    const content = fs.readFileSync(path.join(dir, file));
    return { file, bytes: content.length, gzipBytes: zlib.gzipSync(content).length };
  });
}

async function main(): Promise<void> {
  const files = bundle();
  for (const f of files) console.log(`bundle ${f.file}: ${(f.bytes / 1024).toFixed(1)} KiB, ${(f.gzipBytes / 1024).toFixed(1)} KiB gzip`);
  const drover = await Drover.started();
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  try {
    const text = (await Promise.all(Array.from({ length: SERVICES }, async (_, i) => helloService(`s${i}`, await freePort(), { namespace: "dash" })))).join("---\n");
    await applyText(drover, text);
    await waitFor("every service ready", async () => (await drover.api<{ services: Array<{ status: string }> }>("/api/v1/services")).body.services.filter((s) => s.status === "ready").length === SERVICES, 120_000, 500);
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const link = (await drover.run(["dashboard", "--no-open"])).stdout.trim();
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(link);
      await page.waitForFunction((n) => document.querySelectorAll("[data-service]").length === n && document.body.hasAttribute("data-overview-rendered-ms"), SERVICES, { timeout: 30_000 });
      samples.push(Number(await page.evaluate(() => document.body.getAttribute("data-overview-rendered-ms"))));
      await page.close();
    }
    console.log(`overview with ${SERVICES} services rendered ${median(samples)} ms (median of ${ROUNDS}: ${samples.join(", ")}) after its data arrived; target ≤ 1000 ms`);
    writeResult("dashboard", { machine: machine(), services: SERVICES, renderMs: { median: median(samples), samples }, bundle: files });
  } finally {
    await browser.close();
    await drover.cleanup();
  }
}

await main();
