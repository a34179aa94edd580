/**
 * Numbered schema migrations. Entry i brings the schema from version i to i + 1 (tracked in
 * SQLite's user_version); released entries are never edited, only appended to.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE services (
    name TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    revision INTEGER NOT NULL,
    replicas INTEGER NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    deleting INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE revisions (
    service TEXT NOT NULL,
    number INTEGER NOT NULL,
    descriptor TEXT NOT NULL,
    hash TEXT NOT NULL,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (service, number)
  );
  CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    revision INTEGER NOT NULL,
    node TEXT NOT NULL,
    state TEXT NOT NULL,
    ports TEXT NOT NULL,
    pid INTEGER,
    restarts INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_exit TEXT,
    reason TEXT NOT NULL DEFAULT '',
    started_at INTEGER,
    ready_at INTEGER,
    next_start_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX replicas_service ON replicas (service);
  CREATE TABLE config_objects (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    hash TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
  );
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    type TEXT NOT NULL,
    service TEXT,
    replica TEXT,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX events_service ON events (service, id);
  `,
  `
  ALTER TABLE replicas ADD COLUMN healing TEXT NOT NULL DEFAULT '{"attempts":{},"pending":null,"readinessTimeoutFor":null}';
  `,
  `
  CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    from_revision INTEGER NOT NULL,
    to_revision INTEGER NOT NULL,
    strategy TEXT NOT NULL,
    state TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    step_started_at INTEGER,
    progress_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    failed_at INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    marks TEXT NOT NULL,
    analysis TEXT,
    metrics TEXT,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX rollouts_service ON rollouts (service, id);
  `,
  `
  CREATE TABLE metric_minutes (
    service TEXT NOT NULL,
    at INTEGER NOT NULL,
    cpu_cores REAL NOT NULL,
    memory_bytes REAL NOT NULL,
    watts REAL NOT NULL,
    requests_per_second REAL NOT NULL,
    error_rate REAL,
    p95_ms REAL,
    PRIMARY KEY (service, at)
  );
  CREATE INDEX metric_minutes_at ON metric_minutes (at);
  `,
  // 5: how many replicas the figures were summed over (per-replica usage for recommendations)
  `
  ALTER TABLE metric_minutes ADD COLUMN replicas REAL NOT NULL DEFAULT 0;
  `,
  // 6: API tokens (only their SHA-256 is kept) and the hash-chained audit trail
  `
  CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
  );
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    summary TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  `,
  // 7: admission policies (kind: Policy), checked on every apply
  `
  CREATE TABLE policies (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    hash TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 8: nodes (a JSON document each; the credential hash indexed for look-ups) and join tokens
  `
  CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    credential_hash TEXT UNIQUE,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE join_tokens (
    hash TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
  );
  `,
  // 9: the leader lease (one row; the term is the fencing token), the servers on this store, cluster-wide settings
  `
  CREATE TABLE leader_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    term INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    since INTEGER NOT NULL
  );
  INSERT INTO leader_lease (id, holder, term, expires_at, since) VALUES (1, '', 0, 0, 0);
  CREATE TABLE servers (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    cluster_url TEXT,
    version TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 10: node pools (kind: NodePool), their instances, and every instance's lifecycle transitions
  `
  CREATE TABLE node_pools (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    desired INTEGER,
    problem TEXT,
    deleting INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE pool_instances (
    id TEXT PRIMARY KEY,
    pool TEXT NOT NULL,
    state TEXT NOT NULL,
    document TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX pool_instances_by_pool ON pool_instances (pool);
  CREATE TABLE pool_transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance TEXT NOT NULL,
    pool TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX pool_transitions_by_pool ON pool_transitions (pool, id);
  `,
  // 11: jobs and cron jobs, and their runs (each with its attempts)
  `
  CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    document TEXT NOT NULL,
    hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    deleting INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE job_runs (
    job TEXT NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (job, number)
  );
  `,
  // 12: node-local volumes and the node each one is on
  `
  CREATE TABLE volumes (
    key TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    ordinal INTEGER,
    node TEXT NOT NULL,
    size INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX volumes_by_service ON volumes (service);
  `,
];
