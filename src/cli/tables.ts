/** The tables `get`, `ps` and `up` print. */
import type { ReplicaView, ServiceSummary } from "../server/control-plane.js";
import type { ReplicaRecord } from "../store/records.js";
import { age, memory, statusColor, table } from "./output.js";

export function servicesTable(services: ServiceSummary[], now = Date.now()): string {
  return table(
    ["SERVICE", "REV", "READY", "STATUS", "RESTARTS", "PORTS", "AGE"],
    services.map((s) => [
      s.name,
      String(s.revision),
      `${s.ready}/${s.desired}`,
      statusColor(s.status) + (s.waitingFor.length ? ` (needs ${s.waitingFor.join(", ")})` : ""),
      String(s.restarts),
      s.ports.map((p) => `${p.port}`).join(",") || "-",
      age(s.createdAt, now),
    ]),
  );
}

export function exitText(replica: ReplicaRecord): string {
  const exit = replica.lastExit;
  if (!exit) return "-";
  if (exit.unknown) return exit.oomKilled ? "OOM-killed" : "gone";
  const how = exit.signal ? exit.signal : `code ${exit.code}`;
  return exit.oomKilled ? `${how} (OOM)` : how;
}

export function replicasTable(replicas: Array<ReplicaRecord & Partial<Pick<ReplicaView, "usage">>>, now = Date.now()): string {
  return table(
    ["REPLICA", "SERVICE", "REV", "STATE", "PID", "PORTS", "RESTARTS", "LAST EXIT", "CPU", "MEM", "AGE"],
    replicas.map((r) => [
      r.id,
      r.service,
      String(r.revision),
      statusColor(r.state),
      r.pid === null ? "-" : String(r.pid),
      Object.values(r.ports).join(",") || "-",
      String(r.restarts),
      exitText(r),
      r.usage ? `${r.usage.cpuSeconds.toFixed(1)}s` : "-",
      memory(r.usage?.memoryBytes),
      age(r.startedAt ?? r.createdAt, now),
    ]),
  );
}
