/**
 * Managed databases as the API shows and operates them: each one's service state, whether it
 * answers a query (and its version and the size of each database), what its volume holds, its backups (the files in this server's home, and the backup
 * job's last success and failure), a backup now, a restore, and the connection for `drover db psql`.
 * Backups are read where this server's own node writes them (DROVER_HOME/backups).
 */
import path from "node:path";
import { lastRunFailed, type DatabaseView, type JobRun, type ReplicaRecord, type VolumeView } from "../contract/index.js";
import { listBackups, restoreDatabase, type BackupFile } from "../databases/postgres-backup.js";
import { postgresHealth } from "../databases/postgres-health.js";
import { BadRequestError, NotFoundError } from "../errors.js";
import { backupJobName, databaseOfService, SUPERUSER_PASSWORD_KEY, urlKey, type ServiceDescriptor } from "../spec/index.js";
import type { Store } from "../store/store.js";
import type { ControlPlane } from "./control-plane.js";
import { databaseNode } from "./stateful.js";

export class Databases {
  constructor(
    private readonly plane: ControlPlane,
    /** This server's DROVER_HOME: backups are under backups/<namespace>/<database>. */
    private readonly home: string,
  ) {}

  private get store(): Store {
    return this.plane.store;
  }

  /** This server's own node ("" when it runs none): backups there are files it can read. */
  private localNode(): string {
    return this.plane.agent.node;
  }

  /** A node's address, where its router listens: a database on another node is asked there. */
  private nodeAddress(node: string): string | undefined {
    return this.plane.agent.nodes().find((n) => n.name === node)?.address;
  }

  async views(): Promise<DatabaseView[]> {
    const context = { replicas: await this.store.listReplicas(), volumes: await this.plane.volumes.views() };
    const databases: Array<{ service: string; descriptor: ServiceDescriptor }> = [];
    for (const service of await this.store.listServices()) {
      const descriptor = (await this.store.getRevision(service.name, service.revision))?.descriptor;
      if (descriptor && databaseOfService(descriptor) && !service.deleting) databases.push({ service: service.name, descriptor });
    }
    // Each asks its database (up to 2 s): together, so one slow database does not hold the others back.
    return Promise.all(databases.map((d) => this.viewOf(d.service, d.descriptor, context)));
  }

  /** One database, by its name or its service's (404 for anything else). */
  async view(name: string): Promise<DatabaseView> {
    const { service, descriptor } = await this.find(name);
    return this.viewOf(service, descriptor, { replicas: await this.store.listReplicas(), volumes: await this.plane.volumes.views() });
  }

  private async viewOf(service: string, descriptor: ServiceDescriptor, context: { replicas: ReplicaRecord[]; volumes: VolumeView[] }): Promise<DatabaseView> {
    const port = descriptor.spec.networking.ports[0]!.port;
    const backupJob = await this.store.getJob(`${descriptor.metadata.namespace}/${backupJobName(descriptor.metadata.name)}`);
    // The newest failed run says why, even while the next one is already running.
    const failing = backupJob && lastRunFailed({ lastFailureAt: backupJob.status.lastFailureAt, lastSuccessAt: backupJob.status.lastSuccessAt });
    const lastFailed = failing ? (await this.store.listRuns(backupJob.name, 10)).find((r) => r.state === "failed") : undefined;
    const volume = context.volumes.find((v) => v.service === service);
    const node = volume?.node ?? null;
    const here = node === null || node === this.localNode();
    const files = here ? this.backups(service) : [];
    const { databases } = databaseOfService(descriptor)!;
    const password = (await this.credentials(descriptor))?.[SUPERUSER_PASSWORD_KEY];
    // Through this machine's router when the database is here, else through its own node's.
    const host = this.routerHost(node);
    const health = password ? await postgresHealth({ host, port, password }, databases.map((d) => d.name)) : { reachable: false, error: "no credentials yet", serverVersion: null, latencyMs: null, sizes: {} as Record<string, number> };
    return {
      name: service,
      port,
      databases: databases.map((d) => ({ ...d, bytes: health.sizes[d.name] ?? null })),
      ready: context.replicas.some((r) => r.service === service && r.state === "ready"),
      reachable: health.reachable,
      reachError: health.error,
      serverVersion: health.serverVersion,
      latencyMs: health.latencyMs,
      usedBytes: volume?.usedBytes ?? null,
      sizeBytes: volume?.size ?? null,
      node: volume?.node ?? null,
      backups: {
        schedule: backupJob?.descriptor.spec.cron?.schedule ?? null,
        node,
        here,
        count: here ? files.length : null,
        latest: files[0] ? { file: path.basename(files[0].file), at: files[0].at, bytes: files[0].bytes } : null,
        lastSuccessAt: backupJob?.status.lastSuccessAt ?? null,
        lastFailureAt: backupJob?.status.lastFailureAt ?? null,
        lastFailure: lastFailed ? failureOf(lastFailed) : null,
      },
    };
  }

  /** A backup now: the backup job's run, by hand. */
  async backupNow(name: string, author: string): Promise<JobRun> {
    const { descriptor } = await this.find(name);
    const job = await this.store.getJob(`${descriptor.metadata.namespace}/${backupJobName(descriptor.metadata.name)}`);
    if (!job) throw new BadRequestError(`${name} has no backups: give it spec.backups {schedule, retain}`);
    return this.plane.jobs.runNow(job, author);
  }

  async listBackupFiles(name: string): Promise<BackupFile[]> {
    const { service } = await this.find(name);
    await this.requireHere(service, "listed");
    return this.backups(service);
  }

  /** Where this server reaches a database's port: this machine's router, or that of the node it runs on. */
  private routerHost(node: string | null): string {
    return node === null || node === this.localNode() ? "127.0.0.1" : (this.nodeAddress(node) ?? "127.0.0.1");
  }

  /** Backups on another node are files of that machine: said plainly rather than listed as none. */
  private async requireHere(service: string, what: string): Promise<void> {
    const node = await databaseNode(this.store, service);
    if (node === null || node === this.localNode()) return;
    throw new BadRequestError(`${service} runs on node ${node}: its backups are kept there (DROVER_HOME/backups/${service} of that machine) and cannot be ${what} from this server; give restore a path on this machine to a copy of one`);
  }

  /**
   * Restores a backup into one of the database's databases: a file of its backup folder by name,
   * or a path on the server's machine. Anything that is not a pg_dump custom-format file is refused
   * before the database is touched.
   */
  async restore(name: string, file: string, database: string | undefined, author: string): Promise<{ database: string; file: string }> {
    const { service, descriptor } = await this.find(name);
    const setup = databaseOfService(descriptor)!;
    const target = database ?? databaseOfFile(file, setup) ?? setup.databases[0]!.name;
    if (!setup.databases.some((d) => d.name === target)) throw new BadRequestError(`${name} has no database "${target}" (it has ${setup.databases.map((d) => d.name).join(", ")})`, "database");
    if (!path.isAbsolute(file)) await this.requireHere(service, "restored by name");
    const source = path.isAbsolute(file) ? file : path.join(this.backupDir(service), path.basename(file));
    const password = (await this.credentials(descriptor))?.[SUPERUSER_PASSWORD_KEY];
    if (!password) throw new BadRequestError(`${name} has no credentials yet: apply it first`);
    const port = descriptor.spec.networking.ports[0]!.port;
    try {
      await restoreDatabase(source, target, descriptor.spec.configuration.environment.DROVER_PG_VERSION, { PATH: process.env.PATH, PGHOST: this.routerHost(await databaseNode(this.store, service)), PGPORT: String(port), PGUSER: "postgres", PGPASSWORD: password });
    } catch (error) {
      // The file is the user's to fix (missing, not a dump, a dump pg_restore refuses): nothing was changed.
      throw new BadRequestError((error as Error).message, "file");
    }
    await this.plane.events.emit({ type: "DatabaseRestored", service, replica: null, reason: "Restored", message: `${path.basename(source)} restored into database ${target} of ${service} (by ${author})` });
    return { database: target, file: source };
  }

  /** The URL of a database as its owner, or as the superuser: for `drover db psql` (admins only). */
  async connection(name: string, database: string | undefined, superuser: boolean): Promise<string> {
    const { descriptor } = await this.find(name);
    const secret = await this.credentials(descriptor);
    if (!secret) throw new BadRequestError(`${name} has no credentials yet: apply it first`);
    const setup = databaseOfService(descriptor)!;
    const target = database ?? setup.databases[0]!.name;
    if (!setup.databases.some((d) => d.name === target)) throw new BadRequestError(`${name} has no database "${target}"`, "database");
    if (superuser) return `postgresql://postgres:${encodeURIComponent(secret[SUPERUSER_PASSWORD_KEY]!)}@127.0.0.1:${descriptor.spec.networking.ports[0]!.port}/${target}`;
    return secret[urlKey(target)]!;
  }

  /** A database by `namespace/name` or a name unique across namespaces, resolved as every service name is. */
  private async find(name: string): Promise<{ service: string; descriptor: ServiceDescriptor }> {
    const notFound = new NotFoundError(`no database named "${name}" (drover db ls lists them)`);
    const service = await this.plane.resolveName(name).catch((error: Error) => {
      throw error instanceof NotFoundError ? notFound : error;
    });
    const record = await this.store.getService(service);
    const descriptor = record ? (await this.store.getRevision(service, record.revision))?.descriptor : undefined;
    if (!descriptor || !databaseOfService(descriptor)) throw notFound;
    return { service, descriptor };
  }


  private async credentials(descriptor: ServiceDescriptor): Promise<Record<string, string> | undefined> {
    return (await this.store.getConfigObject("Secret", databaseOfService(descriptor)!.secret))?.data;
  }

  private backupDir(service: string): string {
    return path.join(this.home, "backups", ...service.split("/"));
  }

  private backups(service: string): BackupFile[] {
    return listBackups(this.backupDir(service));
  }
}


/** `shop-20260101T030000Z.dump` belongs to database shop. */
function databaseOfFile(file: string, setup: { databases: Array<{ name: string; owner: string }> }): string | undefined {
  const base = path.basename(file);
  return setup.databases.map((d) => d.name).find((d) => base.startsWith(`${d}-`) && /-\d{8}T\d{6}Z\.dump$/.test(base));
}

function failureOf(run: JobRun): string {
  const attempt = run.attempts.at(-1);
  const line = attempt?.log.filter((l) => l.trim()).at(-1);
  return line ?? run.reason;
}
