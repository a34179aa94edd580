import { test } from "node:test";
import assert from "node:assert/strict";
import type { LaunchSpec } from "../driver.js";
import { containerConfig, containerName } from "./container-config.js";
import { usageFromStats } from "./container-stats.js";

const spec: LaunchSpec = {
  volumes: [],
  replicaId: "web-1a2b3c",
  publishHost: "127.0.0.1",
  command: [],
  workingDir: "/",
  env: { PORT: "8080", MESSAGE: "a=b" },
  logFile: "/tmp/x.log",
  limits: { cpuMillis: 1500, memoryBytes: 256 * 1024 * 1024 },
  user: { uid: 1001 },
  hostPorts: { http: 20001, metrics: 20002 },
  container: {
    image: "shop/web:1.2",
    pullPolicy: "IfNotPresent",
    ports: [{ name: "http", port: 8080, protocol: "http" }, { name: "metrics", port: 9100, protocol: "udp" }],
    labels: { "dev.drover.service": "shop/web", "dev.drover.revision": "3" },
    requests: { cpuMillis: 500, memoryBytes: 64 * 1024 * 1024 },
    gpus: 2,
    capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
    readOnlyRootFilesystem: true,
    privileged: false,
    noNewPrivileges: true,
    stopSignal: "SIGQUIT",
  },
  files: [{ name: "web-config", mountPath: "/etc/web", files: { "a.conf": "x" }, secret: false, folder: "/staged/0" }],
};

test("a replica's container: image, env, user, labels, ports on 127.0.0.1, limits, requests, GPUs, isolation, mounts", () => {
  const config = containerConfig(spec, "/home/u/.drover/agent");
  assert.match(config.name!, /^drover-[0-9a-f]{8}-web-1a2b3c$/);
  assert.equal(config.Image, "shop/web:1.2");
  assert.equal(config.Cmd, undefined, "the image's own command when the descriptor gives none");
  assert.deepEqual(config.Env, ["PORT=8080", "MESSAGE=a=b"]);
  assert.equal(config.User, "1001");
  assert.equal(config.StopSignal, "SIGQUIT");
  assert.deepEqual(config.Labels, { "dev.drover.service": "shop/web", "dev.drover.revision": "3", "dev.drover.replica": "web-1a2b3c", "dev.drover.home": "/home/u/.drover/agent" });
  assert.deepEqual(config.ExposedPorts, { "8080/tcp": {}, "9100/udp": {} });
  const host = config.HostConfig!;
  assert.deepEqual(host.PortBindings, { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "20001" }], "9100/udp": [{ HostIp: "127.0.0.1", HostPort: "20002" }] });
  assert.equal(host.NanoCpus, 1_500_000_000);
  assert.equal(host.Memory, 268_435_456);
  assert.equal(host.MemorySwap, 268_435_456);
  assert.equal(host.MemoryReservation, 67_108_864);
  assert.equal(host.CpuShares, 512);
  assert.deepEqual(host.DeviceRequests, [{ Driver: "", Count: 2, Capabilities: [["gpu"]] }]);
  assert.deepEqual([host.CapAdd, host.CapDrop, host.ReadonlyRootfs, host.Privileged, host.SecurityOpt], [["NET_BIND_SERVICE"], ["ALL"], true, false, ["no-new-privileges:true"]]);
  assert.deepEqual(host.Mounts, [{ Type: "bind", Source: "/staged/0", Target: "/etc/web", ReadOnly: true }]);
  assert.deepEqual(host.RestartPolicy, { Name: "" }, "drover restarts replicas, the engine must not");
});

test("without limits, requests or GPUs nothing is asked for; a command replaces the image's", () => {
  const config = containerConfig({ ...spec, limits: {}, user: undefined, container: { ...spec.container!, command: ["node", "x.js"], requests: {}, gpus: 0, noNewPrivileges: false }, files: [] }, "/h");
  const host = config.HostConfig!;
  assert.deepEqual(config.Cmd, ["node", "x.js"]);
  assert.equal(config.User, undefined);
  for (const key of ["NanoCpus", "Memory", "MemorySwap", "MemoryReservation", "CpuShares", "DeviceRequests"] as const) assert.equal(host[key], undefined, key);
  assert.deepEqual(host.SecurityOpt, []);
});

test("container names keep to what the engine accepts", () => {
  assert.equal(containerName("odd/id:x", "/h"), containerName("odd/id:x", "/h"));
  assert.match(containerName("odd/id:x", "/h"), /^drover-[0-9a-f]{8}-odd_id_x$/);
  assert.notEqual(containerName("api-9f8e7d", "/home/a/.drover/agent"), containerName("api-9f8e7d", "/home/b/.drover/agent"), "two homes, two names");
});

test("engine stats become the usage every runtime reports (cgroup v1 and v2 names)", () => {
  const v1 = usageFromStats({
    cpu_stats: { cpu_usage: { total_usage: 2_500_000_000 } },
    memory_stats: { usage: 50_000_000, stats: { total_inactive_file: 10_000_000 } },
    networks: { eth0: { rx_bytes: 100, tx_bytes: 40 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: "Read", value: 7 }, { op: "Write", value: 9 }, { op: "read", value: 1 }] },
    pids_stats: { current: 11 },
  }, 0);
  assert.deepEqual(v1, { cpuSeconds: 2.5, memoryBytes: 40_000_000, oomKills: 0, threads: 11, diskReadBytes: 8, diskWrittenBytes: 9, networkReceivedBytes: 101, networkSentBytes: 42, source: "docker" });
  const v2 = usageFromStats({ memory_stats: { usage: 30, stats: { inactive_file: 10 } }, blkio_stats: { io_service_bytes_recursive: null } }, 1);
  assert.equal(v2.memoryBytes, 20);
  assert.equal(v2.cpuSeconds, 0);
  assert.equal(v2.oomKills, 1);
});
