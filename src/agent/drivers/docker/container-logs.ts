/** Copies a container's output into the replica's log file, the one `drover logs` reads. */
import fs from "node:fs";
import type { DockerClient } from "./engine.js";

/**
 * Follows stdout and stderr from `since` (seconds since the epoch, fractions allowed; 0 for all)
 * until the container ends or `stop` is called. Re-adoption passes the log file's last write, so
 * output written while drover was down is copied, and nothing twice.
 */
export async function copyContainerLogs(docker: DockerClient, containerId: string, file: string, since: number): Promise<() => void> {
  const stream = (await docker.getContainer(containerId).logs({ follow: true, stdout: true, stderr: true, since: since.toFixed(9) as unknown as number })) as NodeJS.ReadableStream & { destroy(): void };
  const out = fs.createWriteStream(file, { flags: "a" });
  docker.modem.demuxStream(stream, out, out);
  const finish = () => out.end();
  stream.on("end", finish);
  stream.on("error", finish);
  return () => {
    stream.destroy();
    finish();
  };
}

/**
 * File times come from the kernel's coarse clock, up to one tick (at most 10 ms) behind the time
 * the engine stamped the last line copied: without the margin that line would be copied again.
 */
const COARSE_CLOCK_MARGIN_S = 0.01;

/** Just after the last write to `file`, in seconds, or 0 when there is none yet. */
export function lastWriteSeconds(file: string): number {
  try {
    return fs.statSync(file).mtimeMs / 1000 + COARSE_CLOCK_MARGIN_S;
  } catch {
    return 0;
  }
}
