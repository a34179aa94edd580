/**
 * A managed database's health as an operator reads it: whether it answers a query (not only
 * whether its port accepts a connection: a server still starting, or one refusing the
 * superuser's password, accepts connections too), its version, and the size of each database.
 */
import pg from "pg";

export interface PostgresHealth {
  reachable: boolean;
  error: string | null;
  serverVersion: string | null;
  latencyMs: number | null;
  /** Bytes on disk by database name, for the databases asked about that exist. */
  sizes: Record<string, number>;
}

/** Asks within `timeoutMs` in all (connect and query), so a hung server cannot stall a listing. */
export async function postgresHealth(connection: { host: string; port: number; password: string }, databases: string[], timeoutMs = 2_000): Promise<PostgresHealth> {
  const started = Date.now();
  const client = new pg.Client({ host: connection.host, port: connection.port, user: "postgres", password: connection.password, database: "postgres", connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  // An error after the answer (the server going away) must not become an unhandled 'error' event.
  client.on("error", () => undefined);
  try {
    await client.connect();
    const version = await client.query<{ server_version: string }>("SHOW server_version");
    const sizes = await client.query<{ datname: string; bytes: string }>("SELECT datname, pg_database_size(datname)::text AS bytes FROM pg_database WHERE datname = ANY($1)", [databases]);
    return {
      reachable: true,
      error: null,
      serverVersion: `PostgreSQL ${version.rows[0]!.server_version.split(" ")[0]}`,
      latencyMs: Date.now() - started,
      sizes: Object.fromEntries(sizes.rows.map((r) => [r.datname, Number(r.bytes)])),
    };
  } catch (error) {
    return { reachable: false, error: describe(error as Error & { code?: string }), serverVersion: null, latencyMs: null, sizes: {} };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function describe(error: Error & { code?: string }): string {
  if (error.code === "ECONNREFUSED") return "connection refused (nothing listens on its port)";
  if (error.code === "28P01") return "the superuser's password was refused (its credentials secret and the server disagree)";
  if (error.code === "57P03") return "starting up";
  if (/timeout/i.test(error.message)) return "no answer within 2 s";
  return error.message;
}
