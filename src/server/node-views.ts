/** Nodes as `drover node ls` and the dashboard show them: the record, liveness and what each holds. */
import type { NodeDirectory, NodeView, ReplicaRecord } from "../contract/index.js";
import type { ServiceSpec } from "../spec/index.js";

export function nodeViews(directory: NodeDirectory, replicas: ReplicaRecord[], specOf: (replica: ReplicaRecord) => ServiceSpec | undefined, now: number): NodeView[] {
  return directory.nodes().map(({ credentialHash: _, ...node }) => {
    const held = replicas.filter((r) => r.node === node.name && r.state !== "lost");
    const requested = { cpuMillis: 0, memoryBytes: 0, gpus: 0 };
    for (const r of held) {
      const resources = specOf(r)?.resources;
      requested.cpuMillis += resources?.requests.cpu ?? resources?.limits.cpu ?? 0;
      requested.memoryBytes += resources?.requests.memory ?? resources?.limits.memory ?? 0;
      requested.gpus += resources?.requests.gpu ?? resources?.limits.gpu ?? 0;
    }
    const { connected, lastBeatAt, metrics } = directory.liveness(node.name);
    return {
      ...node,
      connected,
      heartbeatAgeMs: lastBeatAt === null ? null : now - lastBeatAt,
      replicas: held.length,
      requested,
      utilisation: metrics?.utilisation ?? null,
      watts: metrics ? metrics.energy.watts : null,
    };
  });
}
