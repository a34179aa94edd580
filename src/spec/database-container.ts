/**
 * The command a managed PostgreSQL container runs (kind: Database, runtime docker). The image's own
 * entrypoint makes the cluster on first start, as the official image does from POSTGRES_PASSWORD
 * and PGDATA; this script then brings roles and databases to what the descriptor says over TCP
 * (missing ones made, every password set from the credentials secret, nothing dropped) and marks
 * the container converged for its probes. SIGTERM becomes PostgreSQL's fast shutdown.
 */
import type { PostgresLayout } from "./database-schema.js";

/** Where the container's probes look: in the container's /tmp, so a new container starts unconverged. */
export const CONTAINER_CONVERGED_MARK = "/tmp/drover-converged";
/** The official image's data mount, and PGDATA below it (a mount point itself cannot be initdb's folder). */
export const CONTAINER_DATA_MOUNT = "/var/lib/postgresql/data";
export const CONTAINER_PGDATA = `${CONTAINER_DATA_MOUNT}/pgdata`;

export function containerScript(layout: PostgresLayout, passwordEnv: (user: string) => string): string {
  // Names are checked identifiers ([a-z_][a-z0-9_]*): quoted, they are safe to write out. Passwords
  // come from the environment through psql's backquote expansion, never on a command line.
  const quoted = (name: string) => `"${name}"`;
  const literal = (name: string) => `'${name}'`;
  const sql = [
    ...layout.users.flatMap((user, i) => [
      `\\set pw_${i} \`printf '%s' "$${passwordEnv(user)}"\``,
      `SELECT 'CREATE ROLE ${quoted(user)} LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(user)})\\gexec`,
      `ALTER ROLE ${quoted(user)} WITH LOGIN PASSWORD :'pw_${i}';`,
    ]),
    ...layout.databases.flatMap((d) => [
      `SELECT 'CREATE DATABASE ${quoted(d.name)} OWNER ${quoted(d.owner)}' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${literal(d.name)})\\gexec`,
      `ALTER DATABASE ${quoted(d.name)} OWNER TO ${quoted(d.owner)};`,
    ]),
  ];
  return [
    `rm -f ${CONTAINER_CONVERGED_MARK}`,
    // The volume is a host folder of root's (0750), bind-mounted: the server, which the entrypoint
    // runs as the image's postgres user, must pass through it to PGDATA (which the entrypoint owns).
    `if [ "$(id -u)" = 0 ]; then chmod 0711 ${CONTAINER_DATA_MOUNT}; fi`,
    "docker-entrypoint.sh postgres &",
    "pid=$!",
    `trap 'kill -INT "$pid" 2>/dev/null' TERM INT`,
    'export PGPASSWORD="$POSTGRES_PASSWORD"',
    // The entrypoint's first-start server listens on its socket only: TCP answers once the real one runs.
    "until pg_isready -q -h 127.0.0.1 -p 5432 -U postgres; do",
    '  kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit 1; }',
    "  sleep 0.2",
    "done",
    "if psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres -d postgres <<'SQL'",
    ...sql,
    "SQL",
    `then touch ${CONTAINER_CONVERGED_MARK}; echo "drover: roles and databases in place: ${layout.databases.map((d) => d.name).join(", ")}"`,
    'else echo "drover: roles and databases could not be brought in place" >&2; kill -INT "$pid"; wait "$pid"; exit 1',
    "fi",
    // A TERM ends the first wait early: wait again until PostgreSQL itself has stopped.
    'wait "$pid"; status=$?',
    'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done',
    "exit $status",
  ].join("\n");
}
