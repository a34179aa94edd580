/** Node-local volumes: where each one lives, for placement (a replica goes where its volume is) and removal. */
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
