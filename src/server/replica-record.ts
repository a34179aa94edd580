import crypto from "node:crypto";
import type { HealingState, ReplicaRecord } from "../contract/index.js";
import { NO_HEALING } from "./healing.js";

/** A new replica row: `<short service name>-<6 hex>` (or the stable name it is given), pending until it is launched. */
export function newReplicaRecord(
  service: { name: string; namespace: string },
  revision: number,
  node: string,
  now: number,
  options: { nextStartAt?: number; healing?: HealingState; reason?: string; id?: string } = {},
): ReplicaRecord {
  const shortName = service.name.slice(service.namespace.length + 1);
  return {
    id: options.id ?? `${shortName}-${crypto.randomBytes(3).toString("hex")}`,
    service: service.name,
    revision,
    node,
    state: "pending",
    ports: {},
    pid: null,
    restarts: 0,
    consecutiveFailures: 0,
    lastExit: null,
    reason: options.reason ?? "Created",
    startedAt: null,
    readyAt: null,
    nextStartAt: options.nextStartAt ?? null,
    healing: options.healing ?? NO_HEALING,
    createdAt: now,
    updatedAt: now,
  };
}
