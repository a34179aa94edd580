/** Where drover keeps its state and where its API listens; from the environment, with defaults. */
import os from "node:os";
import path from "node:path";

export const DEFAULT_ADDRESS = "127.0.0.1:7070";

export function droverHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DROVER_HOME ?? path.join(os.homedir(), ".drover"));
}

/** `host:port` of the API; DROVER_ADDR overrides. */
export function apiAddress(env: NodeJS.ProcessEnv = process.env): { host: string; port: number } {
  const text = env.DROVER_ADDR ?? DEFAULT_ADDRESS;
  const match = /^(.*):(\d+)$/.exec(text);
  if (!match) throw new Error(`DROVER_ADDR ${text}: expected HOST:PORT`);
  return { host: match[1] || "127.0.0.1", port: Number(match[2]) };
}

export function apiUrl(env: NodeJS.ProcessEnv = process.env): string {
  const { host, port } = apiAddress(env);
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
