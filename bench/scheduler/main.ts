/**
 * The scheduler alone (it is pure: nodes are records): 5,000 nodes, 100,000 replicas of 2,000
 * services placed one after another, each placement committed to the node records as the server
 * does. Prints placements per second and the quality of the result — binpack: nodes used against
 * the lower bound ceil(total requests / node capacity); spread: max − min replicas per node — and
 * writes bench/results/scheduler.json.
 *
 *   npm run bench:scheduler [-- --nodes 5000 --replicas 100000 --sample 200]
 */
import { parseArgs } from "node:util";
import { schedule } from "../../src/scheduler/schedule.js";
import { DEFAULT_SAMPLE_SIZE, type NodeCandidate, type PlacementRequest } from "../../src/scheduler/types.js";
import type { PlacementSpec } from "../../src/spec/index.js";
import { writeResult } from "../common.js";

const { values } = parseArgs({ options: { nodes: { type: "string", default: "5000" }, replicas: { type: "string", default: "100000" }, sample: { type: "string", default: String(DEFAULT_SAMPLE_SIZE) } } });
const NODES = Number(values.nodes);
const REPLICAS = Number(values.replicas);
const SAMPLE = Number(values.sample);
const Mi = 1024 ** 2;
const CAPACITY = { cpuMillis: 16_000, memoryBytes: 64 * 1024 * Mi, gpus: 0 };
const SERVICES = 2_000;

/** Mixed hardware (two power profiles) gives the energy score something to choose between. */
function cluster(mixedHardware: boolean): NodeCandidate[] {
  return Array.from({ length: NODES }, (_, i) => ({
    name: `node-${i}`,
    labels: { zone: `zone-${i % 3}`, rack: `rack-${i % 50}` },
    ready: true,
    cordoned: false,
    runtimes: ["process", "docker"],
    allocatable: { ...CAPACITY },
    requested: { cpuMillis: 0, memoryBytes: 0, gpus: 0 },
    freePorts: 10_000,
    wattsPerCore: mixedHardware && i % 2 === 1 ? 12 : 9.5,
    replicas: new Map(),
    replicaCount: 0,
  }));
}

/** The same mixed workload every run: four sizes of replicas, services of 50 replicas each. */
function requests(strategy: PlacementSpec["strategy"], uniform: boolean): PlacementRequest[] {
  const cpu = [100, 250, 500, 1000];
  const memory = [128 * Mi, 256 * Mi, 512 * Mi, 1024 * Mi];
  const placement: PlacementSpec = { strategy, constraints: [], spread_by: [], affinity: [] };
  return Array.from({ length: REPLICAS }, (_, i) => {
    const service = i % SERVICES;
    const size = uniform ? 1 : service % 4;
    return { service: `default/svc-${service}`, runtime: "process", requests: { cpuMillis: cpu[size]!, memoryBytes: memory[size]!, gpus: 0 }, ports: 1, placement };
  });
}

function run(strategy: PlacementSpec["strategy"], uniform: boolean, mixedHardware: boolean) {
  const nodes = cluster(mixedHardware);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const work = requests(strategy, uniform);
  let unplaced = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < work.length; i++) {
    const request = work[i]!;
    const decision = schedule(request, nodes, { sampleSize: SAMPLE, startAt: i });
    if (decision.node === null) {
      unplaced++;
      continue;
    }
    // Commit, as the server's view of the cluster does after a placement.
    const node = byName.get(decision.node)!;
    node.requested.cpuMillis += request.requests.cpuMillis;
    node.requested.memoryBytes += request.requests.memoryBytes;
    (node.replicas as Map<string, number>).set(request.service, (node.replicas.get(request.service) ?? 0) + 1);
    node.replicaCount++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const totalCpu = work.reduce((sum, r) => sum + r.requests.cpuMillis, 0);
  const totalMemory = work.reduce((sum, r) => sum + r.requests.memoryBytes, 0);
  const lowerBound = Math.max(Math.ceil(totalCpu / CAPACITY.cpuMillis), Math.ceil(totalMemory / CAPACITY.memoryBytes));
  const counts = nodes.map((n) => n.replicaCount);
  const used = counts.filter((c) => c > 0).length;
  return {
    strategy,
    workload: uniform ? "uniform (500m, 256Mi)" : "mixed (100m–1000m, 128Mi–1Gi)",
    hardware: mixedHardware ? "two power profiles" : "identical",
    placements: work.length - unplaced,
    unplaced,
    seconds: Math.round(seconds * 1000) / 1000,
    placementsPerSecond: Math.round((work.length - unplaced) / seconds),
    nodesUsed: used,
    lowerBound,
    binpackRatio: Math.round((used / lowerBound) * 1000) / 1000,
    replicasPerNode: { min: Math.min(...counts), max: Math.max(...counts) },
    cpuRequested: { min: Math.min(...nodes.map((n) => n.requested.cpuMillis)), max: Math.max(...nodes.map((n) => n.requested.cpuMillis)) },
  };
}

// Spread is judged on identical nodes: on mixed hardware the energy score rightly favours the frugal ones.
const results = [run("binpack", false, true), run("spread", true, false), run("spread", false, false), run("spread", false, true)];
console.log(`scheduler: ${NODES} nodes, ${REPLICAS} replicas, sample ${SAMPLE || "all"}`);
for (const r of results) {
  const quality = r.strategy === "binpack" ? `nodes used ${r.nodesUsed} / lower bound ${r.lowerBound} = ${r.binpackRatio}` : `replicas per node ${r.replicasPerNode.min}–${r.replicasPerNode.max} (max − min ${r.replicasPerNode.max - r.replicasPerNode.min}), cpu requested ${r.cpuRequested.min}m–${r.cpuRequested.max}m`;
  console.log(`  ${r.strategy.padEnd(8)} ${r.workload.padEnd(31)} ${r.hardware.padEnd(19)} ${String(r.placementsPerSecond).padStart(7)} placements/s  ${quality}${r.unplaced ? `, ${r.unplaced} unplaced` : ""}`);
}
writeResult("scheduler", { nodes: NODES, replicas: REPLICAS, sampleSize: SAMPLE, results });
