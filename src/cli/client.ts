/** The CLI's way to the server: JSON over HTTP(S), errors turned into {@link CliError}s with exit codes. */
import fs from "node:fs";
import { readApiToken } from "../security/api-token.js";
import { apiUrl, droverHome } from "../settings.js";
import type { SpecIssue } from "../spec/index.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure to report to the user as a message and an exit code, never as a stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_FAILURE, readonly issues: SpecIssue[] = []) {
    super(message);
    this.name = "CliError";
  }
}

export class ServerUnreachableError extends CliError {
  constructor(readonly url: string) {
    super(`no drover server at ${url} (start one with "drover up" or "drover server")`, EXIT_FAILURE);
  }
}

export class ApiClient {
  constructor(readonly baseUrl: string = apiUrl()) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /** A POST whose answer is bytes (a backup). */
  async postForBytes(path: string, body: unknown): Promise<Buffer> {
    const response = await this.fetch(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    if (!response.ok) await this.fail(response);
    return Buffer.from(await response.arrayBuffer());
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /** The raw response, for streams (logs -f, events -f). */
  async stream(path: string, signal?: AbortSignal): Promise<Response> {
    const response = await this.fetch(path, { signal });
    if (!response.ok) await this.fail(response);
    return response;
  }

  async isUp(): Promise<{ pid: number; home: string } | undefined> {
    try {
      const response = await (await fetcher())(`${this.baseUrl}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
      return response.ok ? ((await response.json()) as { pid: number; home: string }) : undefined;
    } catch {
      return undefined;
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const response = await this.fetch(path, init);
    if (!response.ok) await this.fail(response);
    return (await response.json()) as T;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    const token = process.env.DROVER_TOKEN ?? readApiToken(droverHome());
    const headers = { ...(init.headers as Record<string, string> | undefined), ...(token && { authorization: `Bearer ${token}` }) };
    try {
      return await (await fetcher())(`${this.baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      throw new ServerUnreachableError(this.baseUrl);
    }
  }

  private async fail(response: Response): Promise<never> {
    let body: { message?: string; issues?: SpecIssue[] } = {};
    try {
      body = (await response.json()) as typeof body;
    } catch {
      // not JSON: keep the status line
    }
    const message = body.message ?? `${response.status} ${response.statusText}`;
    const exitCode = response.status >= 400 && response.status < 500 ? EXIT_USAGE : EXIT_FAILURE;
    throw new CliError(message, exitCode, body.issues ?? []);
  }
}

/** `ns/name` safe in a URL path segment. */
export function servicePath(name: string): string {
  return `/api/v1/services/${encodeURIComponent(name)}`;
}

let chosen: Promise<typeof fetch> | undefined;
/** The global fetch; with DROVER_CA_CERT, undici's with an agent that trusts that certificate (a self-signed one, say). */
function fetcher(): Promise<typeof fetch> {
  chosen ??= (async () => {
    const file = process.env.DROVER_CA_CERT;
    if (!file) return fetch;
    let ca: Buffer;
    try {
      ca = fs.readFileSync(file);
    } catch (error) {
      throw new CliError(`DROVER_CA_CERT ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, EXIT_USAGE);
    }
    const undici = await import("undici");
    const agent = new undici.Agent({ connect: { ca } });
    return ((input: string, init?: RequestInit) => undici.fetch(input, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;
  })();
  return chosen;
}

