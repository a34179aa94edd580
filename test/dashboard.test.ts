import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTEFACTS, launchBrowser, loginPage as loginPageOf, noBrowser } from "./browser.js";
import { Drover, freePort, helloService, REPO, waitFor } from "./harness.js";
import type { ServiceSummary } from "../src/contract/index.js";

const skip = noBrowser;
if (skip) process.stdout.write(`# dashboard tests skipped: ${skip}\n`);

let drover: Drover;
let browser: Browser;
let port: number;
before(async () => {
  if (skip) return;
  drover = await Drover.started();
  port = await freePort();
  assert.equal((await drover.run(["up", "-f", drover.write("web.yaml", helloService("web", port, { env: { MESSAGE: "v1" } }))])).code, 0);
  assert.equal((await drover.run(["up", "-f", drover.write("web.yaml", helloService("web", port, { env: { MESSAGE: "v2" } }))])).code, 0);
  // A node pool: an exec provider here is enough, since this server (no --cluster-listen) refuses to make nodes it could not accept.
  const pool = `apiVersion: drover/v1\nkind: NodePool\nmetadata: {name: spare}\nspec:\n  provider: exec\n  min: 1\n  max: 2\n  machine: {cpu: 1, memory: 1Gi}\n  exec: {command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(path.join(REPO, "examples/providers/loopback-nodes.mjs"))}]}\n`;
  assert.equal((await drover.run(["apply", "-f", drover.write("pool.yaml", pool)])).code, 0);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await drover?.cleanup();
});

const loginPage = (width?: number, height?: number): Promise<Page> => loginPageOf(drover, browser, width, height);

const summary = async (name: string) => (await drover.json<ServiceSummary[]>(["get"])).find((s) => s.name === name)!;

test("log in with a one-time link, see the services, scale from the page (page and drover ps agree), roll back, and watch an event arrive live", { skip }, async () => {
  const page = await loginPage();
  const card = page.locator('[data-service="test/web"]');
  await card.waitFor();
  assert.match(await card.innerText(), /ready\s+1\/1 ready · rev 2/);
  await page.screenshot({ path: path.join(ARTEFACTS, "overview.png") });

  await card.getByRole("link", { name: "test/web" }).click();
  await page.getByRole("heading", { name: "test/web" }).waitFor();
  await page.getByLabel("Desired replicas").fill("3");
  await page.getByRole("button", { name: "Scale" }).click();
  await page.getByRole("status").filter({ hasText: "Scale test/web to 3: done" }).waitFor();
  await waitFor("the page to show 3 of 3 ready", async () => (await page.getByTestId("service-ready").innerText()) === "3/3", 20_000, 200);
  const replicas = await drover.replicasOf("test/web");
  assert.equal(replicas.filter((r) => r.state === "ready").length, 3, "drover ps agrees");
  await page.screenshot({ path: path.join(ARTEFACTS, "service.png"), fullPage: true });

  // A change made elsewhere shows up on the page without a reload: the event stream.
  assert.equal((await drover.run(["scale", "test/web", "2"])).code, 0);
  await page.locator('li[data-event="ServiceScaled"]', { hasText: "desired replicas 2" }).waitFor({ timeout: 10_000 });

  await page.getByRole("button", { name: "Roll back to 1" }).click();
  await page.getByRole("status").filter({ hasText: "Roll test/web back to revision 1: done" }).waitFor();
  await waitFor("the rollback to finish", async () => {
    const s = await summary("test/web");
    return s.revision === 3 && s.status === "ready" ? s : undefined;
  }, 30_000);
  assert.equal(((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { message: string }).message, "v1", "revision 1's spec serves again");
  await page.getByText("revision 3", { exact: false }).first().waitFor({ timeout: 10_000 });
  await page.close();
});

test("jobs and volumes: a job's runs on the page, a run started from it (drover job runs agrees), a volume with its user", { skip }, async () => {
  const job = "apiVersion: drover/v1\nkind: Job\nmetadata: {name: report, namespace: test}\nspec:\n  command: [sh, -c, 'echo done']\n";
  const keeper = `apiVersion: drover/v1\nkind: Service\nmetadata: {name: keeper, namespace: test}\nspec:\n  command: [node, -e, 'setInterval(() => {}, 1000)']\n  volumes: [{name: data, size: 1Mi}]\n`;
  assert.equal((await drover.run(["apply", "-f", drover.write("workloads.yaml", `${job}---\n${keeper}`)])).code, 0);
  await waitFor("the job's first run", async () => (await drover.json<Array<{ state: string }>>(["job", "runs", "test/report"]))[0]?.state === "succeeded", 20_000, 200);
  await waitFor("the volume in use", async () => (await drover.json<Array<{ usedBy: string[] }>>(["volume", "ls"])).some((v) => v.usedBy.length === 1), 20_000, 200);
  const page = await loginPage();
  await page.getByRole("link", { name: "Jobs & data" }).click();
  await page.getByRole("heading", { name: "Jobs, databases and volumes" }).waitFor();
  await page.getByTestId("run-test/report-1").filter({ hasText: "succeeded" }).waitFor();
  await page.locator('[data-job="test/report"]').getByRole("button", { name: "Run now" }).click();
  await page.getByRole("status").filter({ hasText: "Run 2 started." }).waitFor();
  await waitFor("run 2 in drover job runs", async () => (await drover.json<Array<{ number: number; trigger: string }>>(["job", "runs", "test/report"]))[0]?.trigger === "manual", 20_000, 200);
  const volume = page.getByTestId("volume-test/keeper/data");
  await volume.waitFor();
  assert.match(await volume.innerText(), /test\/keeper\/data\s+local\s+1(\.0)? ?Mi[B]?\s+.*keeper-/);
  await page.screenshot({ path: path.join(ARTEFACTS, "workloads.png"), fullPage: true });
  await page.close();
});

test("a viewer sees no action buttons; the pages work at phone width and in the dark theme", { skip }, async () => {
  const viewer = (await drover.run(["token", "create", "eyes", "--role", "viewer"])).stdout.trim();
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(drover.url);
  await page.getByLabel("API token").fill(viewer);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Services" }).waitFor();
  await page.locator('[data-service="test/web"]').getByRole("link").click();
  await page.getByRole("heading", { name: "Replicas" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Scale" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: /Roll back/ }).count(), 0);
  assert.equal(await page.getByRole("button", { name: "Restart" }).count(), 0);
  // Nothing wider than the screen but the tables, which scroll in their own box.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const wide = await page.evaluate(() => [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.parentElement?.closest(".scroll")).map((e) => `${e.tagName}.${e.className}`).slice(0, 5));
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px: ${wide.join(", ")}`);
  const toggle = page.getByRole("button", { name: /Switch to (dark|light) theme/ });
  const target = (await toggle.getAttribute("aria-label"))!.includes("dark") ? "dark" : "light";
  await toggle.click();
  await page.waitForFunction((theme) => document.documentElement.dataset.theme === theme, target);
  await page.screenshot({ path: path.join(ARTEFACTS, "service-phone-dark.png"), fullPage: true });
  await page.getByRole("link", { name: /Events/ }).click();
  await page.getByRole("heading", { level: 1, name: "Events" }).waitFor();
  assert.equal(await page.getByRole("heading", { name: "Audit trail" }).count(), 0, "the audit trail is for admins");
  await page.getByRole("link", { name: "Nodes" }).click();
  await page.getByRole("heading", { level: 1, name: "Nodes" }).waitFor();
  await page.locator('[data-testid="node-local"] .status-ready').waitFor();
  assert.equal(await page.getByRole("button", { name: /Drain|Cordon/ }).count(), 0, "node actions are for operators");
  // A pool this server cannot grow (it accepts no agents): its problem and its failed instance with the steps it went through.
  const pool = await page.locator('[data-pool="spare"]');
  await pool.getByRole("alert").filter({ hasText: "this server accepts no agents" }).waitFor({ timeout: 15_000 });
  const instance = pool.locator('tr[data-testid^="instance-spare-"]').first();
  await instance.locator(".status-failed").waitFor();
  await instance.getByText(/\d+ steps/).click();
  await instance.getByText("→ failed", { exact: false }).waitFor();
  await page.close();
});

test("a used or unknown login link is refused with the reason", { skip }, async () => {
  const page = await browser.newPage();
  await page.goto(`${drover.url}/#login=not-a-code`);
  await page.getByRole("alert").filter({ hasText: "this login link was used already or has expired" }).waitFor();
  await page.close();
});
