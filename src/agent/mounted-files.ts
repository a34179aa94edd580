/**
 * Config maps and secrets given a `mount_path` become folders of files, one per key: read-only
 * bind mounts in a container, folders named by DROVER_MOUNT_<NAME> for a process. A secret's
 * folder is on a host tmpfs (/dev/shm, else /run), so its values are never written to a disk,
 * its files mode 0400 for the replica's user; a config map's is in the replica's own folder.
 */
import fs from "node:fs";
import path from "node:path";
import { LaunchError } from "./drivers/driver.js";
import { homeTag } from "./drivers/docker/container-config.js";
import type { MountedFiles } from "../contract/index.js";

const TMPFS_MAGIC = 0x01021994;
const TMPFS_CANDIDATES = ["/dev/shm", "/run"];

/**
 * Writes each entry's files into a fresh folder; returns the folders in the same order.
 * `userUnknown`: the replica's user cannot be known (a container running as its image's user),
 * so secret files must be readable by any user in it (0444) rather than by their owner only.
 */
export function stageFiles(agentDir: string, replicaId: string, entries: MountedFiles[], owner: { uid?: number; gid?: number } | undefined, userUnknown = false): string[] {
  removeStagedFiles(agentDir, replicaId);
  return entries.map((entry, index) => {
    const base = entry.secret ? secretBase(agentDir) : path.join(agentDir, "replicas", replicaId, "files");
    const folder = path.join(base, ...(entry.secret ? [replicaId] : []), String(index));
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    for (const [name, value] of Object.entries(entry.files)) {
      const file = path.join(folder, name);
      // Secrets readable by their owner only — the replica's user, or drover's, which a process without run_as_user runs as; config maps by anyone.
      fs.writeFileSync(file, value, { mode: entry.secret && !userUnknown ? 0o400 : 0o444 });
      if (owner?.uid !== undefined) fs.chownSync(file, owner.uid, owner.gid ?? owner.uid);
    }
    fs.chmodSync(folder, 0o555);
    if (owner?.uid !== undefined) fs.chownSync(folder, owner.uid, owner.gid ?? owner.uid);
    return folder;
  });
}

export function removeStagedFiles(agentDir: string, replicaId: string): void {
  fs.rmSync(path.join(agentDir, "replicas", replicaId, "files"), { recursive: true, force: true });
  const base = findTmpfs();
  if (base) fs.rmSync(path.join(base, folderName(agentDir), replicaId), { recursive: true, force: true });
}

function secretBase(agentDir: string): string {
  const base = findTmpfs();
  if (!base) throw new LaunchError(`secrets with a mount_path need a tmpfs on this machine (${TMPFS_CANDIDATES.join(" or ")}); none is writable`, 126);
  const folder = path.join(base, folderName(agentDir));
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  return folder;
}

function folderName(agentDir: string): string {
  return `drover-${homeTag(agentDir)}`;
}

let tmpfs: string | null | undefined;
function findTmpfs(): string | null {
  if (tmpfs !== undefined) return tmpfs;
  tmpfs = null;
  for (const candidate of TMPFS_CANDIDATES) {
    try {
      if (fs.statfsSync(candidate).type !== TMPFS_MAGIC) continue;
      fs.accessSync(candidate, fs.constants.W_OK);
      tmpfs = candidate;
      break;
    } catch {
      // not here
    }
  }
  return tmpfs;
}
