/** The Engine's stats of a container, as the replica usage every runtime reports. */
import type { ResourceUsage } from "../../../contract/index.js";

/** The parts of GET /containers/{id}/stats that drover reads (cgroup v1 and v2 engines). */
export interface EngineStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  pids_stats?: { current?: number };
}

export function usageFromStats(stats: EngineStats, oomKills: number): ResourceUsage {
  const memory = stats.memory_stats ?? {};
  // As `docker stats` shows it: usage less the page cache the kernel can drop (v1 and v2 names).
  const inactive = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
  const networks = Object.values(stats.networks ?? {});
  const io = stats.blkio_stats?.io_service_bytes_recursive ?? [];
  const sumIo = (op: string) => io.filter((e) => e.op.toLowerCase() === op).reduce((sum, e) => sum + e.value, 0);
  return {
    cpuSeconds: (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9,
    memoryBytes: Math.max(0, (memory.usage ?? 0) - inactive),
    oomKills,
    threads: stats.pids_stats?.current,
    diskReadBytes: sumIo("read"),
    diskWrittenBytes: sumIo("write"),
    networkReceivedBytes: networks.reduce((sum, n) => sum + (n.rx_bytes ?? 0), 0),
    networkSentBytes: networks.reduce((sum, n) => sum + (n.tx_bytes ?? 0), 0),
    source: "docker",
  };
}
