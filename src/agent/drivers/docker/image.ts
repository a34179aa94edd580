/**
 * Images per pull policy, as Kubernetes defines them: `IfNotPresent` pulls only what the engine
 * lacks, `Always` pulls every time (and falls back to a local copy when the registry cannot be
 * reached), `Never` uses only what is there. A pull that stops making progress is abandoned, so
 * an unreachable registry is an error within seconds, never a hang.
 */
import type { DockerClient } from "./engine.js";
import { dockerMessage, dockerStatus } from "./engine.js";
import { LaunchError } from "../driver.js";

export const IMAGE_UNAVAILABLE = "image_unavailable";

/** How long a pull may go without any progress from the engine. */
const PULL_IDLE_MS = Number(process.env.DROVER_DOCKER_PULL_IDLE_MS ?? 30_000);

/** @throws LaunchError with reason "image_unavailable" when the image cannot be had. */
export async function ensureImage(docker: DockerClient, image: string, policy: "Always" | "IfNotPresent" | "Never"): Promise<void> {
  const present = await isPresent(docker, image);
  if (policy === "Never") {
    if (!present) throw unavailable(image, "it is not on this machine and pull_policy is Never");
    return;
  }
  if (present && policy === "IfNotPresent") return;
  try {
    await pull(docker, image);
  } catch (error) {
    // Always, with the registry out of reach: the local copy serves (the kubelet would refuse;
    // on one machine, an offline laptop, running what is there beats running nothing).
    if (present) return;
    throw unavailable(image, `it is not on this machine and pulling it failed: ${dockerMessage(error)}`);
  }
}

async function isPresent(docker: DockerClient, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (dockerStatus(error) === 404) return false;
    throw new LaunchError(`cannot ask the Docker Engine about image ${image}: ${dockerMessage(error)}`, 125, "runtime_unavailable");
  }
}

function pull(docker: DockerClient, image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.pull(image, (error: unknown, stream: NodeJS.ReadableStream | undefined) => {
      if (error || !stream) return reject(error ?? new Error("no reply"));
      let idle: NodeJS.Timeout;
      const stalled = () => {
        (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
        reject(new Error(`the pull made no progress for ${PULL_IDLE_MS / 1000} s`));
      };
      idle = setTimeout(stalled, PULL_IDLE_MS);
      docker.modem.followProgress(
        stream,
        (failure: Error | null, output: Array<{ error?: string }>) => {
          clearTimeout(idle);
          const reported = output?.find((line) => line.error)?.error;
          if (failure || reported) reject(failure ?? new Error(reported));
          else resolve();
        },
        () => {
          clearTimeout(idle);
          idle = setTimeout(stalled, PULL_IDLE_MS);
        },
      );
    });
  });
}

function unavailable(image: string, why: string): LaunchError {
  return new LaunchError(`image ${image} is not available: ${why}`, 125, IMAGE_UNAVAILABLE);
}
