import { test } from "node:test";
import assert from "node:assert/strict";
import { GpuReader, parseComputeApps, parseGpus, parsePmon } from "./gpus.js";
import { replicaGpu } from "./sampler.js";

// Recorded from nvidia-smi 535 on a two-A100 host and a T4 (whose power reading is not supported).
const QUERY_A100 = `0, GPU-5c0d7c4e-8a2f-7b1e-9d1d-0f3f0b2f9a11, NVIDIA A100-SXM4-40GB, 40960, 10240, 87, 312.45
1, GPU-6e1b2f0a-1c3d-4e5f-8a9b-0c1d2e3f4a5b, NVIDIA A100-SXM4-40GB, 40960, 0, 0, 54.12
`;
const QUERY_T4 = "0, GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0, Tesla T4, 15360, 0, [N/A], [N/A]\n";
const APPS = `4242, GPU-5c0d7c4e-8a2f-7b1e-9d1d-0f3f0b2f9a11, 8192
4250, GPU-5c0d7c4e-8a2f-7b1e-9d1d-0f3f0b2f9a11, 2048
`;
const PMON = `# gpu         pid   type     sm    mem    enc    dec    jpg    ofa    command
# Idx           #    C/G      %      %      %      %      %      %    name
    0        4242     C     60     30      -      -      -      -    python3
    0        4250     C     20     10      -      -      -      -    python3
    1           -     -      -      -      -      -      -      -    -
`;

test("nvidia-smi's device query: model, memory in bytes, utilisation as a share, watts; unsupported fields are null", () => {
  const [first, second] = parseGpus(QUERY_A100);
  assert.deepEqual(first, { index: 0, uuid: "GPU-5c0d7c4e-8a2f-7b1e-9d1d-0f3f0b2f9a11", model: "NVIDIA A100-SXM4-40GB", memoryTotalBytes: 40960 * 1024 ** 2, memoryUsedBytes: 10240 * 1024 ** 2, utilisation: 0.87, watts: 312.45 });
  assert.equal(second!.utilisation, 0);
  const [t4] = parseGpus(QUERY_T4);
  assert.deepEqual([t4!.model, t4!.utilisation, t4!.watts], ["Tesla T4", null, null], "[N/A] is not a zero");
});

test("per process: memory from the compute-apps query, SM utilisation from pmon; a replica gets its group's share of the GPU's power", () => {
  const apps = parseComputeApps(APPS);
  const pmon = parsePmon(PMON);
  assert.deepEqual([...pmon], [[4242, 0.6], [4250, 0.2]]);
  const processes = apps.map((a) => ({ ...a, utilisation: pmon.get(a.pid) ?? null }));
  const gpus = parseGpus(QUERY_A100);
  // 4242 leads its own group (a replica); 4250 is a child process of another replica (group 4000).
  const groups: Record<number, number> = { 4242: 4242, 4250: 4000 };
  const mine = replicaGpu(4242, gpus, processes, (pid) => groups[pid] ?? null)!;
  assert.equal(mine.memoryBytes, 8192 * 1024 ** 2);
  assert.equal(mine.utilisation, 0.6);
  assert.ok(Math.abs(mine.watts! - 312.45 * 0.75) < 1e-9, "three quarters of the SM time on GPU 0: three quarters of its power");
  const other = replicaGpu(4000, gpus, processes, (pid) => groups[pid] ?? null)!;
  assert.equal(other.memoryBytes, 2048 * 1024 ** 2, "found through its process group");
  assert.equal(replicaGpu(9999, gpus, processes, () => null), null, "a replica that uses no GPU has none (not zeros)");
});

test("without nvidia-smi, GPUs are absent: null, not an empty reading", async () => {
  assert.equal(await new GpuReader("/nonexistent/nvidia-smi").read(), null);
});
