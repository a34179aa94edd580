/** What every benchmark shares: reading drover's event stream, percentiles, writing results. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO } from "../test/harness.js";

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

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

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
