/**
 * Volumes on a node: one folder each under the volumes root (`<root>/<namespace>/<service>/<name>`),
 * made at a replica's first start, owned by its user, and never removed with a replica — only when
 * the server says the volume goes (`drover volume rm`, `delete --volumes`).
 */
import fs from "node:fs";
import path from "node:path";
import { homeTag } from "./drivers/docker/container-config.js";
import { LaunchError } from "./drivers/driver.js";

/** A volume's key is `namespace/service/name` (with `-<ordinal>` for a stateful replica's). */
const KEY = /^[a-z0-9-]+\/[a-z0-9-]+\/[a-z0-9-]+$/;

/**
 * Where this agent keeps volumes: DROVER_VOLUMES_DIR when set; as root, /var/lib/drover/volumes/<tag
 * of the agent's home> (a replica of another user, such as a database running as postgres, must
 * reach its folder, which a DROVER_HOME only root may enter does not allow); otherwise the agent's
 * own home.
 */
export function volumesRoot(agentDir: string): string {
  if (process.env.DROVER_VOLUMES_DIR) return path.join(process.env.DROVER_VOLUMES_DIR, homeTag(agentDir));
  if (process.getuid?.() === 0) return path.join("/var/lib/drover/volumes", homeTag(agentDir));
  return path.join(agentDir, "volumes");
}

export function volumeFolder(agentDir: string, key: string): string {
  if (!KEY.test(key)) throw new LaunchError(`not a volume key: ${JSON.stringify(key)}`);
  return path.join(volumesRoot(agentDir), ...key.split("/"));
}

/** The folder, made if new; a new one belongs to the replica's user so it can write there. */
export function ensureVolume(agentDir: string, key: string, owner: { uid?: number; gid?: number } | undefined): string {
  const folder = volumeFolder(agentDir, key);
  if (!fs.existsSync(folder)) {
    // The folders from the root down only let others pass through (0711); the volume is its owner's.
    const root = volumesRoot(agentDir);
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    let dir = root;
    for (const part of path.relative(root, path.dirname(folder)).split(path.sep)) {
      dir = path.join(dir, part);
      if (!fs.existsSync(dir)) fs.mkdirSync(dir, { mode: 0o711 });
    }
    fs.mkdirSync(folder, { recursive: true, mode: 0o750 });
    if (owner?.uid !== undefined) fs.chownSync(folder, owner.uid, owner.gid ?? owner.uid);
  }
  return folder;
}

export function removeVolume(agentDir: string, key: string): void {
  fs.rmSync(volumeFolder(agentDir, key), { recursive: true, force: true });
}

/** Bytes the folder holds now (its files, not following links). */
export function volumeBytes(agentDir: string, key: string): number {
  let total = 0;
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) total += fs.statSync(full).size;
    }
  };
  const folder = volumeFolder(agentDir, key);
  if (fs.existsSync(folder)) walk(folder);
  return total;
}

/** DROVER_VOLUME_<NAME> for each volume. */
export function volumeEnv(volumes: Array<{ name: string; where: string }>): Record<string, string> {
  return Object.fromEntries(volumes.map((v) => [`DROVER_VOLUME_${v.name.toUpperCase().replace(/-/g, "_")}`, v.where]));
}
