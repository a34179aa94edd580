/** What every benchmark shares: reading drover's event stream, percentiles, writing results. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readStat } from "../src/agent/drivers/process/proc.js";
import { REPO, type Drover } from "../test/harness.js";

export interface StreamedEvent {
  id: number;
  time: number;
  type: string;
  service: string;
  replica: string | null;
  message: string;
}

/** Reads a followed event stream (SSE) until `done` returns true; returning cancels the stream. */
export async function readUntil(response: Response, done: (event: StreamedEvent) => boolean): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const data = buffer.slice(0, end).split("\n").find((line) => line.startsWith("data: "));
      buffer = buffer.slice(end + 2);
      if (data && done(JSON.parse(data.slice(6)))) return;
    }
  }
}

/**
 * A process's CPU share (one core = 100%) and resident memory over `seconds`, from /proc, after
 * two seconds for start-up work to settle. `during` runs alongside (e.g. scrapes).
 */
export async function processCost(pid: number, seconds: number, during?: () => Promise<void>): Promise<{ cpuPercent: number; rssMb: number }> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = readStat(pid)!.cpuTicks;
  const start = performance.now();
  await Promise.all([new Promise((resolve) => setTimeout(resolve, seconds * 1000)), during?.()]);
  const ticks = readStat(pid)!.cpuTicks - before;
  const elapsed = (performance.now() - start) / 1000;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return { cpuPercent: (ticks / 100 / elapsed) * 100, rssMb: rssKb / 1024 };
}

export { median, percentile } from "../src/stats.js";

export function machine(): { cpus: number; node: string } {
  return { cpus: os.cpus().length, node: process.version };
}

/** Writes bench/results/<name>.json and says where. */
export function writeResult(name: string, result: object): void {
  const out = path.join(REPO, "bench/results");
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ bench: name, ...result, machine: machine(), at: new Date().toISOString() }, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

/** Follows drover's event stream; `next` resolves with the first event (from now on) that matches. */
export async function followEvents(drover: Drover): Promise<{ next(match: (e: StreamedEvent) => boolean, timeoutMs?: number): Promise<StreamedEvent>; seen: StreamedEvent[]; close(): void }> {
  const abort = new AbortController();
  const response = await fetch(`${drover.url}/api/v1/events?follow=1&limit=1`, { headers: drover.authorization(), signal: abort.signal });
  let waiter: { match: (e: StreamedEvent) => boolean; resolve: (e: StreamedEvent) => void } | undefined;
  const seen: StreamedEvent[] = [];
  // Aborted by close(); until then every event is kept and offered to the waiter.
  readUntil(response, (event) => {
    seen.push(event);
    if (waiter?.match(event)) {
      waiter.resolve(event);
      waiter = undefined;
    }
    return false;
  }).catch(() => undefined);
  return {
    next(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs}ms`)), timeoutMs);
        waiter = { match, resolve: (e) => (clearTimeout(timer), resolve(e)) };
      });
    },
    seen,
    close: () => abort.abort(),
  };
}

/** Applies a descriptor through the API (no CLI process in the measurement). */
export async function applyText(drover: Drover, text: string): Promise<void> {
  const response = await fetch(`${drover.url}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json", ...drover.authorization() }, body: JSON.stringify({ files: [{ file: "bench.yaml", text, baseDir: REPO }] }) });
  if (!response.ok) throw new Error(`apply failed: ${await response.text()}`);
}
