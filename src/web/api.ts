/** The dashboard's way to the API: the session token (from a login link or typed in), JSON, the event stream. */
import type { EventRecord } from "../contract/index.js";

const TOKEN_KEY = "drover.token";

export interface Identity {
  name: string;
  role: "viewer" | "operator" | "admin";
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const current = token();
  if (current) headers.authorization = `Bearer ${current}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as { message?: string }) : {};
  if (!response.ok) throw new ApiError(parsed.message ?? `${response.status} ${response.statusText}`, response.status);
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => call<T>("GET", path),
  post: <T>(path: string, body: unknown = {}) => call<T>("POST", path, body),
};

export function servicePath(name: string): string {
  return `/api/v1/services/${encodeURIComponent(name)}`;
}

/** Trades a one-time login code for a session token. */
export async function redeem(code: string): Promise<void> {
  const session = await call<{ token: string }>("POST", "/api/v1/dashboard/session", { code });
  setToken(session.token);
}

/** Events as the API sends them (the store's records). */
export type StreamedEvent = EventRecord;

/** Follows the event stream (server-sent events, read through fetch so the token can go in a header); returns a function that stops it. */
export function followEvents(onEvent: (event: StreamedEvent) => void): () => void {
  const abort = new AbortController();
  void (async () => {
    while (!abort.signal.aborted) {
      try {
        const response = await fetch("/api/v1/events?follow=1&limit=1", { headers: { authorization: `Bearer ${token()}` }, signal: abort.signal });
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let newline: number;
          while ((newline = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            if (line.startsWith("data:")) onEvent(JSON.parse(line.slice(5)) as StreamedEvent);
          }
        }
      } catch {
        // dropped (the server restarted, the network blinked): try again shortly
      }
      if (!abort.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return () => abort.abort();
}
