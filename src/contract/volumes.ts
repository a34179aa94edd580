/** Node-local volumes (where each one lives, for placement and removal) and the managed databases kept on them. */
export interface VolumeRecord {
  /** `namespace/service/name`, or `namespace/service/name-<ordinal>` for a stateful replica's own. */
  key: string;
  /** `namespace/name` of the service it belongs to. */
  service: string;
  /** The volume's name in the descriptor. */
  name: string;
  ordinal: number | null;
  /** The node its folder is on; set by the first replica that used it. */
  node: string;
  /** What it is expected to hold (bytes), as declared; null when not given. */
  size: number | null;
  createdAt: number;
}

/** A volume as `drover volume ls` shows it. */
export interface VolumeView extends VolumeRecord {
  /** Bytes its folder holds now; null when its node cannot be asked. */
  usedBytes: number | null;
  /** Replicas using it now (not exited). */
  usedBy: string[];
}

/** The key of a service's volume: one per service, or one per ordinal for a stateful replica. */
export function volumeKey(service: string, name: string, ordinal: number | null): string {
  return `${service}/${ordinal === null ? name : `${name}-${ordinal}`}`;
}

/** A managed database as `drover db ls`, the dashboard, its service page and `drover doctor` show it. */
export interface DatabaseView {
  /** `namespace/name`, also its service's. */
  name: string;
  port: number;
  /** Its databases, each with its size on disk when the server answered (pg_database_size). */
  databases: Array<{ name: string; owner: string; bytes: number | null }>;
  /** Its replica is ready (roles and databases in place). */
  ready: boolean;
  /** It answered a query as its superuser just now, through the router of this server's node (or of the database's node, when elsewhere). */
  reachable: boolean;
  /** Why it did not (refused, timed out, authentication), when it did not. */
  reachError: string | null;
  /** `PostgreSQL 15.8` as the server reports itself, when it answered. */
  serverVersion: string | null;
  /** How long connecting and the query took, when it answered. */
  latencyMs: number | null;
  usedBytes: number | null;
  sizeBytes: number | null;
  node: string | null;
  backups: {
    schedule: string | null;
    /** The node whose DROVER_HOME/backups holds them: the database's own (its backup job runs there). */
    node: string | null;
    /** Whether that node is this server's own machine, where the files can be listed and restored from. */
    here: boolean;
    /** Backup files kept, when here (null elsewhere: the job's last success and failure still say how backups go). */
    count: number | null;
    latest: { file: string; at: number; bytes: number } | null;
    lastSuccessAt: number | null;
    lastFailureAt: number | null;
    /** The last line the newest failed run wrote, while backups are failing (a failure newer than the last success). */
    lastFailure: string | null;
  };
}
