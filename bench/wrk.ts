/** Running wrk (Debian's package) and reading its report. */
import { spawn } from "node:child_process";

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx answers. */
  failed: number;
  raw: string;
}

export async function wrk(url: string, options: { seconds: number; connections: number; threads?: number; close?: boolean }): Promise<WrkResult> {
  const args = ["-t", String(options.threads ?? 1), "-c", String(options.connections), "-d", `${options.seconds}s`, "--latency"];
  if (options.close) args.push("-H", "Connection: close");
  const raw = await new Promise<string>((resolve, reject) => {
    const child = spawn("wrk", [...args, url], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.once("error", (error) => reject(new Error(`cannot run wrk (apt-get install -y wrk): ${error.message}`)));
    child.once("exit", () => resolve(out));
  });
  const number = (pattern: RegExp) => Number(pattern.exec(raw)?.[1] ?? 0);
  const latency = (percent: string) => toMs(new RegExp(`^\\s*${percent}%\\s+([\\d.]+\\w+)`, "m").exec(raw)?.[1] ?? "0ms");
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const socketFailures = socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests: number(/(\d+) requests in/),
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    latencyMs: { p50: latency("50"), p99: latency("99") },
    failed: socketFailures + number(/Non-2xx or 3xx responses: (\d+)/),
    raw,
  };
}

function toMs(text: string): number {
  const match = /([\d.]+)(us|ms|s|m)/.exec(text);
  if (!match) return 0;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "ms" ? value : match[2] === "s" ? value * 1000 : value * 60_000;
}
