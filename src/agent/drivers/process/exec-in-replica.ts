/**
 * Runs a command the way `docker exec` does for a container: with the replica's environment,
 * working directory and user, read from /proc of its main process, so it works as well for a
 * replica adopted from an earlier drover. No shell: the argv is run as given.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { LaunchError } from "../driver.js";
import { resolveProgram } from "./process-driver.js";
import type { ProbeOutcome } from "../../../contract/index.js";

/** Output kept for the probe's message: enough for an error line, never a flood. */
const OUTPUT_LIMIT = 512;

interface ReplicaContext {
  env: Record<string, string>;
  cwd: string;
  uid: number;
  gid: number;
}

export function readReplicaContext(pid: number): ReplicaContext | undefined {
  try {
    const env: Record<string, string> = {};
    for (const entry of fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const id = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? -1);
    return { env, cwd: fs.readlinkSync(`/proc/${pid}/cwd`), uid: id("Uid"), gid: id("Gid") };
  } catch {
    return undefined;
  }
}

export function execInReplica(pid: number, command: string[], timeoutMs: number): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const context = readReplicaContext(pid);
  if (!context) return Promise.resolve({ ok: false, message: "the replica's process is gone", latencyMs: elapsed() });
  let program: string;
  try {
    program = resolveProgram(command[0]!, context.cwd, context.env.PATH ?? "/usr/local/bin:/usr/bin:/bin");
  } catch (error) {
    return Promise.resolve({ ok: false, message: error instanceof LaunchError ? error.message : String(error), latencyMs: elapsed() });
  }
  const sameUser = context.uid === process.getuid?.();
  return new Promise((resolve) => {
    const child = spawn(program, command.slice(1), {
      cwd: context.cwd,
      env: context.env,
      // Its own process group, so a timeout kills whatever the command started too.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      uid: sameUser ? undefined : context.uid,
      gid: sameUser ? undefined : context.gid,
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString("utf8", 0, OUTPUT_LIMIT - output.length);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `cannot run ${program}: ${error.message}`, latencyMs: elapsed() });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const text = output.trim().split("\n").slice(-3).join(" | ");
      const how = timedOut ? `killed after the ${timeoutMs}ms timeout` : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ ok: !timedOut && code === 0, message: text ? `${how}: ${text}` : how, latencyMs: elapsed() });
    });
  });
}
