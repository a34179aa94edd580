/**
 * Managed databases as the API shows and operates them: each one's service state, whether its port
 * answers, what its volume holds, its backups (the files in this server's home, and the backup
 * job's last success and failure), a backup now, a restore, and the connection for `drover db psql`.
 * Backups are read where this server's own node writes them (DROVER_HOME/backups).
 */
import net from "node:net";
import path from "node:path";
import type { DatabaseView, JobRun } from "../contract/index.js";
import { listBackups, restoreDatabase, type BackupFile } from "../databases/postgres-backup.js";
import { BadRequestError, NotFoundError } from "../errors.js";
import { backupJobName, credentialsSecretName, DATABASE_ANNOTATION, SUPERUSER_PASSWORD_KEY, urlKey, type ServiceDescriptor } from "../spec/index.js";
import type { Store } from "../store/store.js";
import type { EventBus } from "./event-bus.js";
import type { Jobs } from "./jobs/jobs.js";
import type { Volumes } from "./volumes.js";

interface Setup {
  databases: Array<{ name: string; owner: string }>;
}

export class Databases {
  constructor(
    private readonly store: Store,
    private readonly jobs: Jobs,
    private readonly volumes: Volumes,
    private readonly events: EventBus,
    /** This server's DROVER_HOME: backups are under backups/<namespace>/<database>. */
    private readonly home: string,
  ) {}

  async views(): Promise<DatabaseView[]> {
    const views: DatabaseView[] = [];
    const replicas = await this.store.listReplicas();
    const volumes = await this.volumes.views();
    for (const service of await this.store.listServices()) {
      const descriptor = (await this.store.getRevision(service.name, service.revision))?.descriptor;
      if (!descriptor?.metadata.annotations?.[DATABASE_ANNOTATION] || service.deleting) continue;
      const port = descriptor.spec.networking.ports[0]!.port;
      const backupJob = await this.store.getJob(`${service.namespace}/${backupJobName(descriptor.metadata.name)}`);
      const lastRun = backupJob ? (await this.store.listRuns(backupJob.name, 1))[0] : undefined;
      const files = this.backups(service.name);
      const volume = volumes.find((v) => v.service === service.name);
      views.push({
        name: service.name,
        port,
        databases: setupOf(descriptor).databases,
        ready: replicas.some((r) => r.service === service.name && r.state === "ready"),
        reachable: await answers(port),
        usedBytes: volume?.usedBytes ?? null,
        sizeBytes: volume?.size ?? null,
        node: volume?.node ?? null,
        backups: {
          schedule: backupJob?.descriptor.spec.cron?.schedule ?? null,
          count: files.length,
          latest: files[0] ? { file: path.basename(files[0].file), at: files[0].at, bytes: files[0].bytes } : null,
          lastSuccessAt: backupJob?.status.lastSuccessAt ?? null,
          lastFailureAt: backupJob?.status.lastFailureAt ?? null,
          lastFailure: lastRun?.state === "failed" ? failureOf(lastRun) : null,
        },
      });
    }
    return views;
  }

  /** A backup now: the backup job's run, by hand. */
  async backupNow(name: string, author: string): Promise<JobRun> {
    const { descriptor } = await this.find(name);
    const job = await this.store.getJob(`${descriptor.metadata.namespace}/${backupJobName(descriptor.metadata.name)}`);
    if (!job) throw new BadRequestError(`${name} has no backups: give it spec.backups {schedule, retain}`);
    return this.jobs.runNow(job, author);
  }

  async listBackupFiles(name: string): Promise<BackupFile[]> {
    const { service } = await this.find(name);
    return this.backups(service);
  }

  /**
   * Restores a backup into one of the database's databases: a file of its backup folder by name,
   * or a path on the server's machine. Anything that is not a pg_dump custom-format file is refused
   * before the database is touched.
   */
  async restore(name: string, file: string, database: string | undefined, author: string): Promise<{ database: string; file: string }> {
    const { service, descriptor } = await this.find(name);
    const setup = setupOf(descriptor);
    const target = database ?? databaseOfFile(file, setup) ?? setup.databases[0]!.name;
    if (!setup.databases.some((d) => d.name === target)) throw new BadRequestError(`${name} has no database "${target}" (it has ${setup.databases.map((d) => d.name).join(", ")})`, "database");
    const source = path.isAbsolute(file) ? file : path.join(this.backupDir(service), path.basename(file));
    const password = (await this.store.getConfigObject("Secret", `${descriptor.metadata.namespace}/${credentialsSecretName(descriptor.metadata.name)}`))?.data[SUPERUSER_PASSWORD_KEY];
    if (!password) throw new BadRequestError(`${name} has no credentials yet: apply it first`);
    const port = descriptor.spec.networking.ports[0]!.port;
    try {
      await restoreDatabase(source, target, descriptor.spec.configuration.environment.DROVER_PG_VERSION, { PATH: process.env.PATH, PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "postgres", PGPASSWORD: password });
    } catch (error) {
      // The file is the user's to fix (missing, not a dump, a dump pg_restore refuses): nothing was changed.
      throw new BadRequestError((error as Error).message, "file");
    }
    await this.events.emit({ type: "DatabaseRestored", service, replica: null, reason: "Restored", message: `${path.basename(source)} restored into database ${target} of ${service} (by ${author})` });
    return { database: target, file: source };
  }

  /** The URL of a database as its owner, or as the superuser: for `drover db psql` (admins only). */
  async connection(name: string, database: string | undefined, superuser: boolean): Promise<string> {
    const { descriptor } = await this.find(name);
    const secret = (await this.store.getConfigObject("Secret", `${descriptor.metadata.namespace}/${credentialsSecretName(descriptor.metadata.name)}`))?.data;
    if (!secret) throw new BadRequestError(`${name} has no credentials yet: apply it first`);
    const setup = setupOf(descriptor);
    const target = database ?? setup.databases[0]!.name;
    if (!setup.databases.some((d) => d.name === target)) throw new BadRequestError(`${name} has no database "${target}"`, "database");
    if (superuser) return `postgresql://postgres:${encodeURIComponent(secret[SUPERUSER_PASSWORD_KEY]!)}@127.0.0.1:${descriptor.spec.networking.ports[0]!.port}/${target}`;
    return secret[urlKey(target)]!;
  }

  private async find(name: string): Promise<{ service: string; descriptor: ServiceDescriptor }> {
    const services = await this.store.listServices();
    const match = services.find((s) => s.name === name) ?? services.filter((s) => s.name.endsWith(`/${name}`))[0];
    const descriptor = match ? (await this.store.getRevision(match.name, match.revision))?.descriptor : undefined;
    if (!match || !descriptor?.metadata.annotations?.[DATABASE_ANNOTATION]) throw new NotFoundError(`no database named "${name}" (drover db ls lists them)`);
    return { service: match.name, descriptor };
  }

  private backupDir(service: string): string {
    return path.join(this.home, "backups", ...service.split("/"));
  }

  private backups(service: string): BackupFile[] {
    return listBackups(this.backupDir(service));
  }
}

function setupOf(descriptor: ServiceDescriptor): Setup {
  return JSON.parse(descriptor.spec.configuration.environment.DROVER_PG_SETUP ?? '{"databases":[]}') as Setup;
}

/** `shop-20260101T030000Z.dump` belongs to database shop. */
function databaseOfFile(file: string, setup: Setup): string | undefined {
  const base = path.basename(file);
  return setup.databases.map((d) => d.name).find((d) => base.startsWith(`${d}-`) && /-\d{8}T\d{6}Z\.dump$/.test(base));
}

function failureOf(run: JobRun): string {
  const attempt = run.attempts.at(-1);
  const line = attempt?.log.filter((l) => l.trim()).at(-1);
  return line ?? run.reason;
}

/** Whether something accepts a connection on the port through this node's router, within a second. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
