/** Where drover keeps its state and where its API listens; from the environment, with defaults. */
import os from "node:os";
import path from "node:path";

export const DEFAULT_ADDRESS = "127.0.0.1:7070";

export function droverHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DROVER_HOME ?? path.join(os.homedir(), ".drover"));
}

/** `host:port` of the API, and whether it speaks TLS; DROVER_ADDR (`[https://]HOST:PORT`) overrides. */
export function apiAddress(env: NodeJS.ProcessEnv = process.env): { host: string; port: number; tls: boolean } {
  const text = env.DROVER_ADDR ?? DEFAULT_ADDRESS;
  const match = /^(?:(https?):\/\/)?(.*):(\d+)$/.exec(text);
  if (!match) throw new Error(`DROVER_ADDR ${text}: expected HOST:PORT or https://HOST:PORT`);
  const host = (match[2] || "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(match[3]), tls: match[1] === "https" };
}

export function apiUrl(env: NodeJS.ProcessEnv = process.env): string {
  const { host, port, tls } = apiAddress(env);
  return `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Whether an address is reachable only from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
