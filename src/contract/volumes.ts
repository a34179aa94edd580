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

/** A managed database as `drover db ls`, the dashboard and `drover doctor` show it. */
export interface DatabaseView {
  /** `namespace/name`, also its service's. */
  name: string;
  port: number;
  databases: Array<{ name: string; owner: string }>;
  /** Its replica is ready (roles and databases in place). */
  ready: boolean;
  /** Its port answers through this server's node's router now. */
  reachable: boolean;
  usedBytes: number | null;
  sizeBytes: number | null;
  node: string | null;
  backups: {
    schedule: string | null;
    /** Backup files kept (in this server's home). */
    count: number;
    latest: { file: string; at: number; bytes: number } | null;
    lastSuccessAt: number | null;
    lastFailureAt: number | null;
    /** The last line the failing backup run wrote, when the last run failed. */
    lastFailure: string | null;
  };
}
