/**
 * Backups of all of drover's state: a consistent online snapshot of the store in one gzip'd
 * file (the SQLite file itself, or on PostgreSQL every table's rows), with the master key only
 * when asked (a backup with the key opens every secret: keep it like the key). Restoring writes
 * into a home where no server runs and no state exists, or into an empty PostgreSQL store (or
 * either with `force`); it checks that the key opens the secrets before anything is replaced,
 * and leaves out the replicas table: replicas are what ran before; the servers start their own.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import type { Store, StoreDump } from "../store/store.js";
import { checkDump } from "../store/dump.js";
import { SQLITE_FILE } from "../store/open-store.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { MASTER_KEY_FILE, SecretBox } from "./secret-box.js";

const FORMAT = "drover-backup-v1";
export const DATABASE_FILE = SQLITE_FILE;

interface BackupFile {
  format: string;
  createdAt: number;
  version: string;
  /** The SQLite snapshot, base64 (a backup of a SQLite store). */
  database?: string;
  /** Every table's rows (a backup of a PostgreSQL store). */
  dump?: StoreDump;
  masterKey?: string;
}

export interface RestoreSummary {
  services: number;
  secrets: number;
  createdAt: number;
  keyRestored: boolean;
}

/** The backup's bytes: a snapshot of `store`, plus the home's master key with `includeKey`. */
export async function createBackup(store: Store, home: string, version: string, includeKey: boolean): Promise<Buffer> {
  const file: BackupFile = { format: FORMAT, createdAt: Date.now(), version };
  if (store.description.dialect === "sqlite") {
    const temp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "drover-backup-")), DATABASE_FILE);
    try {
      await store.snapshot(temp);
      file.database = fs.readFileSync(temp).toString("base64");
    } finally {
      fs.rmSync(path.dirname(temp), { recursive: true, force: true });
    }
  } else {
    file.dump = await store.dump();
  }
  if (includeKey) file.masterKey = process.env.DROVER_MASTER_KEY || fs.readFileSync(path.join(home, MASTER_KEY_FILE), "utf8").trim();
  return zlib.gzipSync(JSON.stringify(file));
}

export class RestoreError extends Error {}

/** Restores a backup (of either store) into `home`'s SQLite store. @throws RestoreError with the reason, changing nothing. */
export async function restoreBackup(bytes: Buffer, home: string, force: boolean): Promise<RestoreSummary> {
  const file = readBackup(bytes);
  fs.mkdirSync(home, { recursive: true });
  const target = path.join(home, DATABASE_FILE);
  if (fs.existsSync(target) && !force) throw new RestoreError(`${home} has state already (${DATABASE_FILE}): restore into an empty home, or pass --force to replace it`);
  if (file.masterKey && fs.existsSync(path.join(home, MASTER_KEY_FILE)) && !force) throw new RestoreError(`${home} has a master key already: pass --force to replace it with the backup's`);

  // Everything is checked in a scratch copy first: the key must open the secrets.
  const scratch = fs.mkdtempSync(path.join(home, ".restore-"));
  try {
    const database = path.join(scratch, DATABASE_FILE);
    if (file.database) fs.writeFileSync(database, Buffer.from(file.database, "base64"), { mode: 0o600 });
    else await withStore(new SqliteStore(database), (store) => store.load(file.dump!));
    if (file.masterKey) fs.writeFileSync(path.join(scratch, MASTER_KEY_FILE), `${file.masterKey}\n`, { mode: 0o600 });
    const box = SecretBox.open(file.masterKey ? scratch : home);
    const db = new Database(database);
    let secrets: number;
    let services: number;
    try {
      db.exec("DELETE FROM replicas");
      // The servers and the lease of the machine the backup came from mean nothing here.
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'leader_lease'").get()) db.exec("UPDATE leader_lease SET holder = '', expires_at = 0; DELETE FROM servers;");
      services = (db.prepare("SELECT COUNT(*) AS n FROM services").get() as { n: number }).n;
      secrets = (db.prepare("SELECT COUNT(*) AS n FROM config_objects WHERE kind = 'Secret'").get() as { n: number }).n;
    } finally {
      db.close();
    }
    try {
      // Opening the store with the key unseals every secret: a wrong key fails here.
      void new SqliteStore(database, Date.now, box).close();
    } catch (error) {
      throw new RestoreError(keyProblem(error, file));
    }
    for (const leftover of [`${target}-wal`, `${target}-shm`]) fs.rmSync(leftover, { force: true });
    fs.renameSync(database, target);
    if (file.masterKey) fs.renameSync(path.join(scratch, MASTER_KEY_FILE), path.join(home, MASTER_KEY_FILE));
    writeAuditHead(target, home);
    return { services, secrets, createdAt: file.createdAt, keyRestored: Boolean(file.masterKey) };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Restores a backup (of either store) into a shared store, in one transaction. `store` is opened
 * without a cipher (rows move as they are, secrets sealed); `home` has the key when the backup has none.
 */
export async function restoreBackupInto(bytes: Buffer, store: Store, home: string, force: boolean): Promise<RestoreSummary> {
  const file = readBackup(bytes);
  let dump = file.dump;
  if (!dump) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "drover-restore-"));
    try {
      const database = path.join(scratch, DATABASE_FILE);
      fs.writeFileSync(database, Buffer.from(file.database!, "base64"), { mode: 0o600 });
      dump = await withStore(new SqliteStore(database), (sqlite) => sqlite.dump());
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  if (!force && (await store.listServices()).length > 0) throw new RestoreError("the store has services already: restore into an empty store, or pass --force to replace what it has");
  const keyFile = path.join(home, MASTER_KEY_FILE);
  if (file.masterKey && fs.existsSync(keyFile) && !force) throw new RestoreError(`${home} has a master key already: pass --force to replace it with the backup's`);
  const box = file.masterKey ? SecretBox.fromKey(file.masterKey) : SecretBox.open(home);
  const secrets = (dump.tables.config_objects ?? []).filter((row) => row.kind === "Secret");
  try {
    for (const row of secrets) if (box.isSealed(String(row.data))) box.unseal(String(row.data), String(row.name));
  } catch (error) {
    throw new RestoreError(keyProblem(error, file));
  }
  const active = (await store.listServers()).filter((s) => Date.now() - s.seenAt < 30_000);
  if (active.length > 0) throw new RestoreError(`servers are running on this store (${active.map((s) => s.id).join(", ")}): stop them first`);
  try {
    await store.load({ ...dump, tables: { ...dump.tables, replicas: [] } }, { replace: force });
  } catch (error) {
    throw new RestoreError(`${(error as Error).message}${force ? "" : " (pass --force to replace it)"}`);
  }
  // The servers on the store open its secrets with this key: it goes where this home's server finds it.
  if (file.masterKey) {
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(keyFile, `${file.masterKey}\n`, { mode: 0o600 });
  }
  return { services: (dump.tables.services ?? []).length, secrets: secrets.length, createdAt: file.createdAt, keyRestored: Boolean(file.masterKey) };
}

function readBackup(bytes: Buffer): BackupFile {
  let file: BackupFile;
  try {
    file = JSON.parse(zlib.gunzipSync(bytes).toString("utf8")) as BackupFile;
  } catch {
    throw new RestoreError("not a drover backup (it does not unpack)");
  }
  if (file.format !== FORMAT) throw new RestoreError(`not a drover backup (format ${String(file.format)})`);
  if (!file.database && !file.dump) throw new RestoreError("not a drover backup (it holds no store)");
  if (file.dump) {
    try {
      checkDump(file.dump);
    } catch (error) {
      throw new RestoreError((error as Error).message);
    }
  }
  return file;
}

function keyProblem(error: unknown, file: BackupFile): string {
  return `${(error as Error).message}${file.masterKey ? "" : " — the backup holds no key: set DROVER_MASTER_KEY or put the original master.key in the home first"}`;
}

async function withStore<T>(store: Store, use: (store: Store) => Promise<T>): Promise<T> {
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** The restored trail's newest entry becomes the head, so `audit verify` checks it as it was. */
function writeAuditHead(database: string, home: string): void {
  const db = new Database(database, { readonly: true });
  try {
    const last = db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").get() as { seq: number; hash: string } | undefined;
    const head = path.join(home, "audit.head");
    if (last) fs.writeFileSync(head, JSON.stringify(last), { mode: 0o600 });
    else fs.rmSync(head, { force: true });
  } finally {
    db.close();
  }
}

/** Snapshots kept before deploys: DROVER_HOME/backups/pre-deploy-<time>.db (.json for PostgreSQL), the newest `keep`. */
export async function snapshotBeforeDeploy(store: Store, home: string, keep: number): Promise<string> {
  const dir = path.join(home, "backups");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const extension = store.description.dialect === "sqlite" ? "db" : "json";
  const file = path.join(dir, `pre-deploy-${new Date().toISOString().replace(/[:.]/g, "-")}-${crypto.randomBytes(2).toString("hex")}.${extension}`);
  await store.snapshot(file);
  fs.chmodSync(file, 0o600);
  const snapshots = fs.readdirSync(dir).filter((f) => f.startsWith("pre-deploy-")).sort();
  for (const old of snapshots.slice(0, Math.max(0, snapshots.length - keep))) fs.rmSync(path.join(dir, old), { force: true });
  return file;
}
