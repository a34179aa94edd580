/** Node pools in tests: a local pool on a test cluster's bridge, and reading pools through the CLI. */
import type { PoolView } from "../src/contract/index.js";
import type { TestCluster } from "./cluster-harness.js";

export function localPool(cluster: TestCluster, extra = ""): string {
  return `apiVersion: drover/v1
kind: NodePool
metadata: {name: work}
spec:
  provider: local
  min: 2
  max: 4
  machine: small
  scale_down_delay: 6s
  boot_timeout: 60s
  local: {bridge: ${cluster.bridge}, subnet: ${cluster.subnet}}
${extra}`;
}

export async function poolOf(cluster: TestCluster, name = "work"): Promise<PoolView> {
  return cluster.drover.json<PoolView>(["pool", "describe", name, "-o", "json"]);
}

export const live = (pool: PoolView) => pool.instances.filter((i) => !["terminated", "failed", "archived"].includes(i.state));
export const readyInstances = (pool: PoolView) => pool.instances.filter((i) => i.state === "ready");

