/**
 * A replica's container, as the Engine API's create body: pure, so what drover asks of Docker
 * can be read and tested without an engine.
 */
import crypto from "node:crypto";
import type { ContainerCreateOptions } from "dockerode";
import type { LaunchSpec } from "../driver.js";

/** Labels that identify drover's containers, so a restarted drover finds its own again. */
export const LABELS = { replica: "dev.drover.replica", service: "dev.drover.service", revision: "dev.drover.revision", home: "dev.drover.home" } as const;

/** A short tag of drover's agent folder: two drovers on one engine never share a container name or a folder. */
export function homeTag(agentDir: string): string {
  return crypto.createHash("sha256").update(agentDir).digest("hex").slice(0, 8);
}

export function containerName(replicaId: string, agentDir: string): string {
  return `drover-${homeTag(agentDir)}-${replicaId.replace(/[^a-zA-Z0-9_.-]/g, "_")}`;
}

export function containerConfig(spec: LaunchSpec, home: string): ContainerCreateOptions {
  const container = spec.container!;
  const portKey = (p: { port: number; protocol: string }) => `${p.port}/${p.protocol === "udp" ? "udp" : "tcp"}`;
  const requests = container.requests;
  return {
    name: containerName(spec.replicaId, home),
    Image: container.image,
    ...(container.command ? { Cmd: container.command } : {}),
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    ...(spec.user?.uid !== undefined ? { User: spec.user.gid !== undefined ? `${spec.user.uid}:${spec.user.gid}` : String(spec.user.uid) } : {}),
    Labels: { ...container.labels, [LABELS.replica]: spec.replicaId, [LABELS.home]: home },
    ExposedPorts: Object.fromEntries(container.ports.map((p) => [portKey(p), {}])),
    StopSignal: container.stopSignal,
    HostConfig: {
      PortBindings: Object.fromEntries(container.ports.map((p) => [portKey(p), [{ HostIp: spec.publishHost, HostPort: String(spec.hostPorts[p.name]) }]])),
      ...(spec.limits.cpuMillis !== undefined ? { NanoCpus: spec.limits.cpuMillis * 1_000_000 } : {}),
      // No swap beyond the limit: the limit is what the replica may use, as for a process's cgroup.
      ...(spec.limits.memoryBytes !== undefined ? { Memory: spec.limits.memoryBytes, MemorySwap: spec.limits.memoryBytes } : {}),
      ...(requests.memoryBytes !== undefined ? { MemoryReservation: requests.memoryBytes } : {}),
      // Requests weigh a replica against others when the CPU is contended: 1 core = 1024 shares.
      ...(requests.cpuMillis !== undefined ? { CpuShares: Math.max(2, Math.round((requests.cpuMillis * 1024) / 1000)) } : {}),
      ...(container.gpus ? { DeviceRequests: [{ Driver: "", Count: container.gpus, Capabilities: [["gpu"]] }] } : {}),
      CapAdd: container.capabilities.add,
      CapDrop: container.capabilities.drop,
      ReadonlyRootfs: container.readOnlyRootFilesystem,
      Privileged: container.privileged,
      SecurityOpt: container.noNewPrivileges ? ["no-new-privileges:true"] : [],
      Mounts: [
        ...spec.files.map((f) => ({ Type: "bind" as const, Source: f.folder, Target: f.mountPath, ReadOnly: true })),
        ...spec.volumes.flatMap((v) => (v.mountPath ? [{ Type: "bind" as const, Source: v.folder, Target: v.mountPath, ReadOnly: false }] : [])),
      ],
      // drover restarts replicas itself (with backoff, healing and events); the engine must not.
      RestartPolicy: { Name: "" },
      // drover copies the output into the replica's log file; the engine keeps only a little.
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "1" } },
    },
  };
}
