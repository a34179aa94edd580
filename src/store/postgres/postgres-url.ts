/** PostgreSQL URLs as users give them, and what to say when connecting fails (never the password). */

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** `user@host:port/database`: where the store is, for messages and `drover doctor`. */
export function describeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`the store URL is not a valid URL (expected postgres://user:password@host:5432/database)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "(default database)";
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : "";
  return `${user}${parsed.hostname || "localhost"}:${parsed.port || "5432"}/${database}`;
}

/** The error to show when the store cannot be opened: where, and what PostgreSQL (or the network) said. */
export function connectionError(location: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/newer drover/.test(message)) return new Error(`the PostgreSQL store ${location}: ${message}`);
  const code = (error as { code?: string }).code;
  const reason = code === "ECONNREFUSED" ? "nothing listens there (is PostgreSQL running?)" : code === "ENOTFOUND" ? "the host name does not resolve" : message || code || "unknown error";
  return new Error(`cannot open the PostgreSQL store ${location}: ${reason}`);
}
