/** The tables `get`, `ps` and `up` print. */
import type { NodeView, ReplicaRecord, ReplicaView, ServiceSummary } from "../contract/index.js";
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
    ["REPLICA", "SERVICE", "NODE", "REV", "STATE", "PID", "PORTS", "RESTARTS", "LAST EXIT", "CPU", "MEM", "AGE"],
    replicas.map((r) => [
      r.id,
      r.service,
      r.node || "-",
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

export function nodesTable(nodes: NodeView[], now = Date.now()): string {
  return table(
    ["NODE", "STATE", "ADDRESS", "HEARTBEAT", "REPLICAS", "CPU REQ/ALLOC", "MEM REQ/ALLOC", "GPUS", "POWER", "RUNTIMES", "LABELS", "AGE"],
    nodes.map((n) => [
      n.name,
      statusColor(nodeStatus(n)),
      n.address,
      n.heartbeatAgeMs === null ? "-" : `${(n.heartbeatAgeMs / 1000).toFixed(1)}s ago`,
      String(n.replicas),
      `${n.requested.cpuMillis}m/${n.allocatable.cpuMillis}m`,
      `${memory(n.requested.memoryBytes)}/${memory(n.allocatable.memoryBytes)}`,
      n.allocatable.gpus ? `${n.requested.gpus}/${n.allocatable.gpus}${n.gpuModel ? ` ${n.gpuModel}` : ""}` : "-",
      n.watts === null ? "-" : `${n.watts.toFixed(1)}W ${n.energy.source}`,
      n.runtimes.join(","),
      Object.entries(n.labels).filter(([k]) => !k.startsWith("drover.dev/")).map(([k, v]) => `${k}=${v}`).join(",") || "-",
      age(n.joinedAt, now),
    ]),
  );
}

/** `ready`, `ready,cordoned`, `not_ready,draining`: the state with what the user set. */
export function nodeStatus(node: Pick<NodeView, "state" | "cordoned" | "draining">): string {
  return [node.state, node.draining ? "draining" : node.cordoned ? "cordoned" : ""].filter(Boolean).join(",");
}
