#!/usr/bin/env node
// An exec provider for drover's node pools: each "machine" is a `drover agent` process on this
// host with a loopback address of its own (127.N.0.X), so a pool can be tried without root, a
// cloud account or a second machine. It shows the whole contract (docs/operations.md, "Node pools
// and providers"): drover runs `loopback-nodes.mjs VERB`, writes the request as JSON on stdin and
// reads one JSON document from stdout; a non-zero exit means the verb failed (stderr says why).
//
// Settings (the pool's exec.environment):
//   DROVER_BIN          how to run drover here (default: "drover"), e.g. "node /opt/drover/dist/src/cli/main.js"
//   LOOPBACK_NODES_DIR  where instances are kept (default: $DROVER_HOME/loopback-nodes)
//
// Every instance is tagged with drover's instance id and cluster (its folder name and meta.json),
// which is how `list` answers for one cluster and pool only. Replicas of the process runtime are
// stopped with their node on `terminate`.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const verb = process.argv[2];
const dir = process.env.LOOPBACK_NODES_DIR ?? path.join(process.env.DROVER_HOME ?? path.join(os.homedir(), ".drover"), "loopback-nodes");
const drover = (process.env.DROVER_BIN ?? "drover").split(" ").filter(Boolean);

const CATALOG = [
  { name: "tiny", cpu: "500m", memory: "512Mi", gpus: 0, hourly_cost: 0.005, watts: 8 },
  { name: "small", cpu: 1, memory: "1Gi", gpus: 0, hourly_cost: 0.01, watts: 15 },
];

function readRequest() {
  const text = fs.readFileSync(0, "utf8");
  return text.trim() ? JSON.parse(text) : {};
}

function answer(document) {
  process.stdout.write(`${JSON.stringify(document)}\n`);
}

function metaOf(id) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, id, "meta.json"), "utf8"));
  } catch {
    return null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A second octet per cluster, so two clusters on one host do not share addresses. */
function networkOf(cluster) {
  return 20 + (crypto.createHash("sha256").update(cluster).digest()[0] % 200);
}

function freeAddress(cluster) {
  const used = new Set(fs.existsSync(dir) ? fs.readdirSync(dir).map((id) => metaOf(id)?.address) : []);
  const net = networkOf(cluster);
  for (let host = 10; host < 250; host++) if (!used.has(`127.${net}.0.${host}`)) return `127.${net}.0.${host}`;
  throw new Error("no loopback address left");
}

const verbs = {
  catalog() {
    answer({ machines: CATALOG });
  },

  create() {
    const request = readRequest();
    // The same instance asked for twice (drover retrying after a crash) is the same machine.
    const existing = fs.existsSync(dir) ? fs.readdirSync(dir).find((id) => metaOf(id)?.instance === request.instance) : undefined;
    if (existing) return answer({ id: existing, address: metaOf(existing).address });
    const id = `lb-${crypto.randomBytes(4).toString("hex")}`;
    fs.mkdirSync(path.join(dir, id), { recursive: true });
    const meta = { id, instance: request.instance, pool: request.pool, cluster: request.cluster, address: freeAddress(request.cluster), machine: request.machine, pid: null };
    fs.writeFileSync(path.join(dir, id, "meta.json"), JSON.stringify(meta));
    answer({ id, address: meta.address });
  },

  start() {
    const request = readRequest();
    const meta = metaOf(request.id);
    if (!meta) throw new Error(`no instance ${request.id}`);
    if (meta.pid && alive(meta.pid)) return answer({});
    const home = path.join(dir, request.id, "home");
    fs.mkdirSync(home, { recursive: true });
    const { machine, join } = request;
    const labels = Object.entries(request.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
    const args = [...drover.slice(1), "agent", "--server", join.servers.join(","), "--token", join.token, "--ca-hash", join.ca_hash, "--name", request.instance, "--address", meta.address, "--capacity", `cpu=${machine.cpu}m,memory=${machine.memory},gpus=${machine.gpus}`];
    if (labels) args.push("--labels", labels);
    const log = fs.openSync(path.join(dir, request.id, "agent.log"), "a");
    const child = spawn(drover[0], args, { detached: true, stdio: ["ignore", log, log], env: { ...process.env, DROVER_HOME: home, DROVER_ROUTER_HOST: meta.address } });
    child.unref();
    fs.writeFileSync(path.join(dir, request.id, "meta.json"), JSON.stringify({ ...meta, pid: child.pid }));
    answer({});
  },

  terminate() {
    const request = readRequest();
    const meta = metaOf(request.id);
    if (!meta) return answer({});
    if (meta.pid && alive(meta.pid)) process.kill(meta.pid, "SIGKILL");
    // The node's replicas go with it: each is a process group of its own.
    const replicas = path.join(dir, request.id, "home", "agent", "replicas");
    for (const replica of fs.existsSync(replicas) ? fs.readdirSync(replicas) : []) {
      try {
        const state = JSON.parse(fs.readFileSync(path.join(replicas, replica, "state.json"), "utf8"));
        if (state.status?.pid) process.kill(-state.status.pid, "SIGKILL");
      } catch {
        // no state, or gone already
      }
    }
    fs.rmSync(path.join(dir, request.id), { recursive: true, force: true });
    answer({});
  },

  address() {
    answer({ address: metaOf(readRequest().id)?.address ?? null });
  },

  exists() {
    answer({ exists: metaOf(readRequest().id) !== null });
  },

  list() {
    const request = readRequest();
    const instances = (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
      .map(metaOf)
      .filter((m) => m && m.cluster === request.cluster && m.pool === request.pool)
      .map((m) => ({ id: m.id, instance: m.instance, state: m.pid && alive(m.pid) ? "running" : m.pid ? "stopped" : "pending", address: m.address }));
    answer({ instances });
  },
};

try {
  if (!Object.hasOwn(verbs, verb ?? "")) throw new Error(`unknown verb "${verb}" (catalog, create, start, terminate, address, exists, list)`);
  verbs[verb]();
} catch (error) {
  process.stderr.write(`loopback-nodes ${verb}: ${error.message}\n`);
  process.exit(1);
}
