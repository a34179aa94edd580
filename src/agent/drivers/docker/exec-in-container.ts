/** Exec probes for containers: `docker exec` of the command, judged by its exit code. */
import { performance } from "node:perf_hooks";
import { PassThrough } from "node:stream";
import { dockerMessage, type DockerClient } from "./engine.js";
import type { ProbeOutcome } from "../../../contract/index.js";

/** Output kept for the probe's message: enough for an error line, never a flood. */
const OUTPUT_LIMIT = 512;

export async function execInContainer(docker: DockerClient, containerId: string, command: string[], timeoutMs: number): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  let exec;
  let stream: NodeJS.ReadableStream & { destroy(): void };
  try {
    exec = await docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    stream = (await exec.start({ hijack: true, stdin: false })) as typeof stream;
  } catch (error) {
    return { ok: false, message: `cannot run ${command[0]}: ${dockerMessage(error)}`, latencyMs: elapsed() };
  }
  let output = "";
  const collect = new PassThrough();
  collect.on("data", (chunk: Buffer) => {
    if (output.length < OUTPUT_LIMIT) output += chunk.toString("utf8", 0, OUTPUT_LIMIT - output.length);
  });
  docker.modem.demuxStream(stream, collect, collect);
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<boolean>((resolve) => {
    stream.on("end", () => resolve(true));
    stream.on("error", () => resolve(true));
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const finished = await ended;
  clearTimeout(timer);
  const text = output.trim().split("\n").slice(-3).join(" | ");
  if (!finished) {
    stream.destroy();
    // The engine cannot kill an exec; drover can, being on the same machine with the rights to.
    const { Pid } = await exec.inspect().catch(() => ({ Pid: 0 }));
    if (Pid > 0) {
      try {
        process.kill(Pid, "SIGKILL");
      } catch {
        // ended meanwhile, or not ours to signal
      }
    }
    const how = `killed after the ${timeoutMs}ms timeout`;
    return { ok: false, message: text ? `${how}: ${text}` : how, latencyMs: elapsed() };
  }
  const { ExitCode } = await exec.inspect().catch(() => ({ ExitCode: null }));
  // 126/127 are the runtime's words for a command it could not run.
  const how = ExitCode === null ? "ended, exit code unknown" : `exit code ${ExitCode}`;
  return { ok: ExitCode === 0, message: text ? `${how}: ${text}` : how, latencyMs: elapsed() };
}
