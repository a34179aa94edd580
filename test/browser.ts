/** A headless Chromium for the dashboard's tests, and a page logged in through a one-time link. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO, type Drover } from "./harness.js";

export const CHROMIUM = "/usr/bin/chromium";
/** Why browser tests cannot run here, or false. */
export const noBrowser: string | false = fs.existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (apt-get install -y chromium)`;
/** Screenshots are kept here as test artefacts. */
export const ARTEFACTS = path.join(REPO, "dist", "test-artifacts");

export async function launchBrowser(): Promise<Browser> {
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
}

/** A page logged in with `drover dashboard --no-open`'s link, on the overview, with no script error. */
export async function loginPage(drover: Drover, browser: Browser, width = 1280, height = 800): Promise<Page> {
  const link = await drover.run(["dashboard", "--no-open"]);
  assert.equal(link.code, 0, link.stderr);
  const url = link.stdout.trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#login=[\w-]+$/);
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("dialog", (dialog) => void dialog.accept());
  await page.goto(url);
  await page.getByRole("heading", { name: "Services" }).waitFor();
  assert.deepEqual(errors, []);
  return page;
}
