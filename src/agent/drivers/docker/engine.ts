/**
 * The Docker Engine this agent talks to: DOCKER_HOST when set (unix:// or tcp://, with
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the docker CLI reads them), else the local socket.
 * dockerode costs ~20 MB and ~150 ms to load, so it loads with the first container; the start-up
 * check that `doctor` shows is one plain HTTP request.
 */
import http from "node:http";
import type Dockerode from "dockerode";

export type DockerClient = Dockerode;

const DEFAULT_SOCKET = "/var/run/docker.sock";

let client: Promise<Dockerode> | undefined;

/** The shared client; dockerode reads DOCKER_HOST and its TLS settings itself. */
export function dockerClient(): Promise<Dockerode> {
  client ??= import("dockerode").then(({ default: Docker }) => new Docker());
  return client;
}

export interface EngineCheck {
  available: boolean;
  /** "Docker Engine 20.10.24 (API 1.41) at unix:///var/run/docker.sock", or why there is none. */
  detail: string;
}

/** Asks the engine for its version, within `timeoutMs`; never throws. */
export function checkEngine(timeoutMs = 2_000): Promise<EngineCheck> {
  const where = process.env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`;
  const target = requestTarget(where);
  if (!target) return dockerClient().then((docker) => versionOf(docker, where), (error: Error) => ({ available: false, detail: `${where}: ${error.message}` }));
  return new Promise((resolve) => {
    const request = http.get({ ...target, path: "/version", timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        try {
          const version = JSON.parse(body) as { Version: string; ApiVersion: string };
          resolve({ available: true, detail: `Docker Engine ${version.Version} (API ${version.ApiVersion}) at ${where}` });
        } catch {
          resolve({ available: false, detail: `${where} answered, but not as a Docker Engine (HTTP ${response.statusCode})` });
        }
      });
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ available: false, detail: `no Docker Engine at ${where} (${engineErrorText(error)})` }));
  });
}

/** Plain-HTTP targets only; TLS and ssh engines are asked through dockerode. */
function requestTarget(where: string): http.RequestOptions | null {
  if (where.startsWith("unix://")) return { socketPath: where.slice("unix://".length) };
  if (where.startsWith("tcp://") && process.env.DOCKER_TLS_VERIFY !== "1") {
    const url = new URL(`http://${where.slice("tcp://".length)}`);
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  return null;
}

async function versionOf(docker: Dockerode, where: string): Promise<EngineCheck> {
  try {
    const version = await docker.version();
    return { available: true, detail: `Docker Engine ${version.Version} (API ${version.ApiVersion}) at ${where}` };
  } catch (error) {
    return { available: false, detail: `no Docker Engine at ${where} (${engineErrorText(error as NodeJS.ErrnoException)})` };
  }
}

/** What went wrong talking to the engine, in words an operator can act on. */
export function engineErrorText(error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") return "no socket there: is dockerd running?";
  if (error.code === "EACCES") return "permission denied on the socket: run as root or join the docker group";
  if (error.code === "ECONNREFUSED") return "connection refused: is dockerd running?";
  return error.message;
}

/** The message of an engine's error reply ({"message": ...}) or of a transport error. */
export function dockerMessage(error: unknown): string {
  const e = error as { json?: { message?: string }; reason?: string; message?: string; code?: string };
  if (e.json?.message) return e.json.message;
  if (e.code) return engineErrorText(e as NodeJS.ErrnoException);
  return (e.message ?? String(error)).replace(/^\(HTTP code \d+\) [a-z ]+ - /, "").trim();
}

/** The HTTP status of an engine's error reply, if it was one. */
export function dockerStatus(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}
