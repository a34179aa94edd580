/** Finding the drover server, and starting one in the background when there is none. */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { droverHome } from "../settings.js";
import { ApiClient, CliError } from "./client.js";

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "main.js");

/**
 * V8 flags for the long-running server. A 1 MiB young generation (16 MiB by default) keeps the
 * resident size about 20 MB lower, and since fork() copies the page tables of the process that
 * spawns, a smaller drover also starts replicas faster. (src/cli/main.ts's shebang repeats them
 * for `drover server` started from a shell.)
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=1"];

/** A client for a running server of this DROVER_HOME, starting the server first when needed. */
export async function ensureServer(client: ApiClient, log: (text: string) => void): Promise<{ started: boolean }> {
  const home = droverHome();
  const running = await client.isUp();
  if (running) {
    if (path.resolve(running.home) !== home) {
      throw new CliError(`the drover server at ${client.baseUrl} uses DROVER_HOME ${running.home}, not ${home}; set DROVER_ADDR to another address or DROVER_HOME to match`);
    }
    return { started: false };
  }
  fs.mkdirSync(home, { recursive: true });
  const logFile = path.join(home, "server.log");
  const out = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, MAIN, "server"], { detached: true, stdio: ["ignore", out, out], env: process.env });
  fs.closeSync(out);
  child.unref();
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let finished: number | null | undefined;
  void exited.then((code) => (finished = code));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await client.isUp()) {
      log(`started drover server (pid ${child.pid}) at ${client.baseUrl}, log ${logFile}`);
      return { started: true };
    }
    if (finished !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const tail = fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join("\n");
  throw new CliError(`the drover server did not start${finished !== undefined ? ` (exit code ${finished})` : " within 20s"}; ${logFile} says:\n${tail}`);
}
