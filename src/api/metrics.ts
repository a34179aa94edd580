/**
 * drover's metrics for Prometheus, gathered at scrape time: services and replicas (state,
 * restarts, CPU, memory, OOM kills, probes), the router (requests by status class, latency,
 * bytes, connections), rollouts by outcome — labelled namespace, service, revision, replica,
 * node — and drover's own process (prom-client's default metrics, prefixed drover_).
 */
import { collectDefaultMetrics, Registry } from "prom-client";
import type { ControlPlane } from "../server/control-plane.js";
import { jobFamilies } from "./job-metrics.js";
import { histogramSamples, render, type Family, type Labels } from "./prometheus.js";
import { LATENCY_BUCKETS_MS, type GpuSample, type MetricsSnapshot, type NodeView } from "../contract/index.js";

export class DroverMetrics {
  private readonly process = new Registry();
  private readonly limits = new Map<string, number | null>();

  constructor(private readonly controlPlane: ControlPlane) {
    // Event-loop lag sampled every 100 ms, not prom-client's 10 ms: a tenth of the wake-ups, enough to see a stall.
    collectDefaultMetrics({ register: this.process, prefix: "drover_", eventLoopMonitoringPrecision: 100 });
    // Gauges that prom-client names like counters; promtool (rightly) rejects the "_total" suffix.
    for (const name of ["active_handles_total", "active_requests_total", "active_resources_total"]) this.process.removeSingleMetric(`drover_nodejs_${name}`);
  }

  /** Revisions never change: each one's memory limit is read from the store once. */
  private async memoryLimit(service: string, revision: number): Promise<number | null> {
    const key = `${service}@${revision}`;
    if (!this.limits.has(key)) this.limits.set(key, (await this.controlPlane.store.getRevision(service, revision))?.descriptor.spec.resources.limits.memory ?? null);
    return this.limits.get(key)!;
  }

  contentType(): string {
    return this.process.contentType;
  }

  async scrape(): Promise<string> {
    const families = await this.families();
    return `${render(families)}${await this.process.metrics()}`;
  }

  private async families(): Promise<Family[]> {
    const { store, agent } = this.controlPlane;
    const services = await this.controlPlane.listServices();
    const replicas = await this.controlPlane.replicas(undefined, true);
    const nodes = await this.controlPlane.nodes(replicas);
    const split = (name: string) => ({ namespace: name.slice(0, name.indexOf("/")), service: name.slice(name.indexOf("/") + 1) });
    const family = (name: string, type: Family["type"], help: string): Family => ({ name, type, help, samples: [] });

    const desired = family("drover_service_replicas_desired", "gauge", "Replicas the service should run.");
    const ready = family("drover_service_replicas_ready", "gauge", "Replicas of the service's current revision that are ready.");
    const revision = family("drover_service_revision", "gauge", "The revision the service runs.");
    for (const s of services) {
      desired.samples.push({ labels: split(s.name), value: s.desired });
      ready.samples.push({ labels: split(s.name), value: s.ready });
      revision.samples.push({ labels: split(s.name), value: s.revision });
    }

    const state = family("drover_replica_state", "gauge", "1, labelled with the state the replica is in (one series per replica: states are not listed at 0).");
    const restarts = family("drover_replica_restarts_total", "counter", "Restarts of the replica.");
    const cpu = family("drover_replica_cpu_seconds_total", "counter", "CPU time the replica used (its cgroup, else its process tree).");
    const memory = family("drover_replica_memory_bytes", "gauge", "Memory the replica uses (cgroup usage less inactive page cache, else resident set).");
    const ooms = family("drover_replica_oom_kills_total", "counter", "OOM kills in the replica's cgroup.");
    const memoryLimit = family("drover_replica_memory_limit_bytes", "gauge", "The replica's memory limit (resources.limits.memory), where one is set.");
    const probeUp = family("drover_probe_success", "gauge", "1 while the probe passes, 0 while it fails (absent before a verdict).");
    const probeLatency = family("drover_probe_duration_seconds", "gauge", "How long the probe's last run took.");
    for (const r of replicas) {
      const labels: Labels = { ...split(r.service), revision: r.revision, replica: r.id, node: r.node || "none" };
      state.samples.push({ labels: { ...labels, state: r.state }, value: 1 });
      restarts.samples.push({ labels, value: r.restarts });
      const limit = await this.memoryLimit(r.service, r.revision);
      if (limit !== null) memoryLimit.samples.push({ labels, value: limit });
      if (r.usage) {
        cpu.samples.push({ labels, value: r.usage.cpuSeconds });
        memory.samples.push({ labels, value: r.usage.memoryBytes });
        ooms.samples.push({ labels, value: r.usage.oomKills });
      }
      for (const p of r.probes) {
        if (p.state !== "pending") probeUp.samples.push({ labels: { ...labels, probe: p.kind }, value: p.state === "passing" ? 1 : 0 });
        if (p.last) probeLatency.samples.push({ labels: { ...labels, probe: p.kind }, value: p.last.latencyMs / 1000 });
      }
    }

    const fds = family("drover_replica_open_fds", "gauge", "Open file descriptors of the replica's processes.");
    const threads = family("drover_replica_threads", "gauge", "Threads of the replica's processes.");
    const diskRead = family("drover_replica_disk_read_bytes_total", "counter", "Bytes the replica's processes read from storage.");
    const diskWritten = family("drover_replica_disk_written_bytes_total", "counter", "Bytes the replica's processes wrote to storage.");
    const netReceived = family("drover_replica_network_received_bytes_total", "counter", "Bytes the replica received on its network interfaces (containers, which have their own).");
    const netSent = family("drover_replica_network_sent_bytes_total", "counter", "Bytes the replica sent on its network interfaces (containers, which have their own).");
    const replicaWatts = family("drover_replica_power_watts", "gauge", "The replica's share of the host's power over the last interval (source: rapl or model).");
    const replicaJoules = family("drover_replica_energy_joules_total", "counter", "Energy attributed to the replica since drover started (source: rapl or model).");
    const replicaGpuMemory = family("drover_replica_gpu_memory_bytes", "gauge", "GPU memory held by the replica's processes (nvidia-smi).");
    const replicaGpuUtilisation = family("drover_replica_gpu_utilisation_ratio", "gauge", "SM utilisation of the replica's processes, summed over its GPUs (nvidia-smi pmon).");
    const replicaGpuWatts = family("drover_replica_gpu_power_watts", "gauge", "The replica's share of its GPUs' power, by SM utilisation (source: model).");
    const snapshots = new Map(nodes.map((n) => [n.name, agent.liveness(n.name)]));
    for (const r of replicas) {
      if (!r.usage) continue;
      const labels: Labels = { ...split(r.service), revision: r.revision, replica: r.id, node: r.node };
      if (r.usage.openFds !== undefined) fds.samples.push({ labels, value: r.usage.openFds });
      if (r.usage.threads !== undefined) threads.samples.push({ labels, value: r.usage.threads });
      if (r.usage.diskReadBytes !== undefined) diskRead.samples.push({ labels, value: r.usage.diskReadBytes });
      if (r.usage.diskWrittenBytes !== undefined) diskWritten.samples.push({ labels, value: r.usage.diskWrittenBytes });
      if (r.usage.networkReceivedBytes !== undefined) netReceived.samples.push({ labels, value: r.usage.networkReceivedBytes });
      if (r.usage.networkSentBytes !== undefined) netSent.samples.push({ labels, value: r.usage.networkSentBytes });
      const sample = snapshots.get(r.node)?.metrics;
      const energy = sample?.replicas.get(r.id);
      const source = sample?.energy.source ?? "model";
      if (energy) {
        replicaWatts.samples.push({ labels: { ...labels, source }, value: energy.watts });
        replicaJoules.samples.push({ labels: { ...labels, source }, value: energy.joulesTotal });
        if (energy.gpu) {
          replicaGpuMemory.samples.push({ labels, value: energy.gpu.memoryBytes });
          if (energy.gpu.utilisation !== null) replicaGpuUtilisation.samples.push({ labels, value: energy.gpu.utilisation });
          if (energy.gpu.watts !== null) replicaGpuWatts.samples.push({ labels: { ...labels, source: "model" }, value: energy.gpu.watts });
        }
      }
    }
    const host = mergeFamilies(nodes.flatMap((n) => {
      const sample = snapshots.get(n.name)?.metrics;
      return sample ? this.hostFamilies(sample, n.name) : [];
    }));

    const requests = family("drover_router_requests_total", "counter", "Requests the router answered, by status class (5xx includes the router's own 502/503).");
    const proxyErrors = family("drover_router_proxy_errors_total", "counter", "Requests the router answered itself because no replica could take them.");
    const duration = family("drover_router_request_duration_seconds", "histogram", "Time from a request's arrival to the end of its answer.");
    const received = family("drover_router_received_bytes_total", "counter", "Body bytes received from clients.");
    const sent = family("drover_router_sent_bytes_total", "counter", "Body bytes sent to clients.");
    const connections = family("drover_router_connections_total", "counter", "Connections forwarded (tcp ports through drover, and upgrades).");
    const bounds = LATENCY_BUCKETS_MS.map((ms) => ms / 1000);
    // Each node's router counts what it proxied: one series per node.
    for (const [node, { traffic: counted }] of snapshots) for (const traffic of counted) {
      for (const t of traffic.revisions) {
        const labels: Labels = { ...split(traffic.service), revision: t.revision, node };
        for (const [code, count] of Object.entries(t.statuses)) requests.samples.push({ labels: { ...labels, code }, value: count });
        proxyErrors.samples.push({ labels, value: t.proxyErrors });
        if (t.requests > 0) duration.samples.push(...histogramSamples(labels, bounds, t.latencyBuckets, t.latencySumMs / 1000));
        received.samples.push({ labels, value: t.bytesIn });
        sent.samples.push({ labels, value: t.bytesOut });
        if (t.connections > 0) connections.samples.push({ labels, value: t.connections });
      }
    }

    const rollouts = family("drover_rollouts_total", "counter", "Rollouts that ended, by outcome.");
    const active = family("drover_rollout_active", "gauge", "1 while a rollout of the service is under way.");
    const counted = await store.countRollouts();
    for (const { service, outcome, count } of counted.ended) rollouts.samples.push({ labels: { ...split(service), outcome }, value: count });
    for (const s of services) active.samples.push({ labels: split(s.name), value: counted.active.includes(s.name) ? 1 : 0 });
    const jobs = await this.controlPlane.jobs.views();
    const runCounts = new Map<string, { succeeded: number; failed: number }>();
    for (const job of jobs) {
      const kept = await store.listRuns(job.name);
      runCounts.set(job.name, { succeeded: kept.filter((r) => r.state === "succeeded").length, failed: kept.filter((r) => r.state === "failed").length });
    }
    return [...nodeFamilies(nodes), ...jobFamilies(jobs, runCounts), desired, ready, revision, state, restarts, cpu, memory, memoryLimit, ooms, fds, threads, diskRead, diskWritten, netReceived, netSent, replicaWatts, replicaJoules, replicaGpuMemory, replicaGpuUtilisation, replicaGpuWatts, probeUp, probeLatency, requests, proxyErrors, duration, received, sent, connections, rollouts, active, ...host];
  }

  private hostFamilies(sample: MetricsSnapshot, node: string): Family[] {
    const host = sample.host;
    if (!host) return [];
    const cpu: Family = { name: "drover_host_cpu_seconds_total", type: "counter", help: "CPU time of the host per core and mode.", samples: [] };
    for (const [core, modes] of Object.entries(host.cpu)) {
      if (core === "all") continue;
      for (const [mode, seconds] of Object.entries(modes)) cpu.samples.push({ labels: { node, cpu: core.slice(3), mode }, value: seconds });
    }
    const gauge = (name: string, help: string, samples: Family["samples"]): Family => ({ name, type: "gauge", help, samples });
    const counter = (name: string, help: string, samples: Family["samples"]): Family => ({ name, type: "counter", help, samples });
    const fs = host.filesystem;
    return [
      cpu,
      gauge("drover_host_cpu_utilisation_ratio", "Busy share of all cores over the last sampling interval.", sample.utilisation === null ? [] : [{ labels: { node }, value: sample.utilisation }]),
      gauge("drover_host_memory_total_bytes", "Memory of the host.", [{ labels: { node }, value: host.memory.totalBytes }]),
      gauge("drover_host_memory_available_bytes", "Memory available for new work without swapping.", [{ labels: { node }, value: host.memory.availableBytes }]),
      gauge("drover_host_load1", "Load average over 1 minute.", [{ labels: { node }, value: host.load[0] }]),
      gauge("drover_host_load5", "Load average over 5 minutes.", [{ labels: { node }, value: host.load[1] }]),
      gauge("drover_host_load15", "Load average over 15 minutes.", [{ labels: { node }, value: host.load[2] }]),
      counter("drover_host_disk_read_bytes_total", "Bytes read from each disk.", host.disks.map((d) => ({ labels: { node, device: d.device }, value: d.readBytes }))),
      counter("drover_host_disk_written_bytes_total", "Bytes written to each disk.", host.disks.map((d) => ({ labels: { node, device: d.device }, value: d.writtenBytes }))),
      counter("drover_host_network_received_bytes_total", "Bytes received per interface.", host.network.map((n) => ({ labels: { node, interface: n.interface }, value: n.receivedBytes }))),
      counter("drover_host_network_transmitted_bytes_total", "Bytes sent per interface.", host.network.map((n) => ({ labels: { node, interface: n.interface }, value: n.transmittedBytes }))),
      gauge("drover_host_filesystem_size_bytes", "Size of the filesystem that holds DROVER_HOME.", fs ? [{ labels: { node, path: fs.path }, value: fs.sizeBytes }] : []),
      gauge("drover_host_filesystem_free_bytes", "Free space (for unprivileged users) where DROVER_HOME is.", fs ? [{ labels: { node, path: fs.path }, value: fs.freeBytes }] : []),
      gauge("drover_host_power_watts", "Power of the host over the last interval: measured (rapl) or estimated (model).", [{ labels: { node, source: sample.energy.source }, value: sample.energy.watts }]),
      counter("drover_host_energy_joules_total", "Energy of the host since drover started: measured (rapl) or estimated (model).", [{ labels: { node, source: sample.energy.source }, value: sample.energy.joulesTotal }]),
      // GPUs only where the node has them (nvidia-smi): absent GPUs have no series, never zeros.
      ...gpuFamilies(sample.gpus ?? [], node),
    ];
  }
}

/** drover_node_gpu_*: each GPU of a node as nvidia-smi reports it; a field it does not report has no sample. */
function gpuFamilies(gpus: GpuSample[], node: string): Family[] {
  const gauge = (name: string, help: string, value: (g: GpuSample) => number | null): Family => ({
    name,
    type: "gauge",
    help,
    samples: gpus.flatMap((g) => {
      const v = value(g);
      return v === null ? [] : [{ labels: { node, gpu: String(g.index), model: g.model }, value: v }];
    }),
  });
  return [
    gauge("drover_node_gpu_utilisation_ratio", "Utilisation of each GPU (nvidia-smi).", (g) => g.utilisation),
    gauge("drover_node_gpu_memory_total_bytes", "Memory of each GPU.", (g) => g.memoryTotalBytes),
    gauge("drover_node_gpu_memory_used_bytes", "Memory in use on each GPU.", (g) => g.memoryUsedBytes),
    gauge("drover_node_gpu_power_watts", "Power drawn by each GPU (nvidia-smi).", (g) => g.watts),
  ];
}

/** The same family from several nodes, as one family with every node's samples. */
function mergeFamilies(families: Family[]): Family[] {
  const byName = new Map<string, Family>();
  for (const f of families) {
    const seen = byName.get(f.name);
    if (seen) seen.samples.push(...f.samples);
    else byName.set(f.name, { ...f, samples: [...f.samples] });
  }
  return [...byName.values()];
}

/** drover_node_*: each node's state, heartbeat, capacity and what its replicas request. */
function nodeFamilies(nodes: NodeView[]): Family[] {
  const gauge = (name: string, help: string, value: (n: NodeView) => number | null): Family => ({
    name,
    type: "gauge",
    help,
    samples: nodes.flatMap((n) => {
      const v = value(n);
      return v === null ? [] : [{ labels: { node: n.name }, value: v }];
    }),
  });
  return [
    { name: "drover_node_state", type: "gauge", help: "1, labelled with the node's state (initializing, ready, not_ready, down).", samples: nodes.map((n) => ({ labels: { node: n.name, state: n.state }, value: 1 })) },
    gauge("drover_node_ready", "1 while the node is ready and takes new replicas (not cordoned or draining).", (n) => (n.state === "ready" && !n.cordoned && !n.draining ? 1 : 0)),
    gauge("drover_node_cordoned", "1 while the node is cordoned or draining.", (n) => (n.cordoned || n.draining ? 1 : 0)),
    gauge("drover_node_connected", "1 while the node's agent is connected.", (n) => (n.connected ? 1 : 0)),
    gauge("drover_node_heartbeat_age_seconds", "Seconds since the node's last heartbeat.", (n) => (n.heartbeatAgeMs === null ? null : n.heartbeatAgeMs / 1000)),
    gauge("drover_node_allocatable_cpu_cores", "CPU the node offers replicas.", (n) => n.allocatable.cpuMillis / 1000),
    gauge("drover_node_allocatable_memory_bytes", "Memory the node offers replicas.", (n) => n.allocatable.memoryBytes),
    gauge("drover_node_allocatable_gpus", "GPUs the node offers replicas.", (n) => n.allocatable.gpus),
    gauge("drover_node_requested_cpu_cores", "CPU requested by the replicas placed on the node.", (n) => n.requested.cpuMillis / 1000),
    gauge("drover_node_requested_memory_bytes", "Memory requested by the replicas placed on the node.", (n) => n.requested.memoryBytes),
    gauge("drover_node_replicas", "Replicas placed on the node.", (n) => n.replicas),
    gauge("drover_node_watts_per_core", "Marginal power of one more busy core on the node (the scheduler's energy score).", (n) => n.energy.wattsPerCore),
  ];
}
