/**
 * What a `kind: Database` stands for, as the descriptors drover keeps: a stateful Service
 * (PostgreSQL on a volume, readiness once its roles and databases are in place, replaced in place),
 * a backup CronJob when `backups` is set, and the name and keys of its credentials secret (made by
 * the server, which alone can generate and keep passwords). Programs named `drover:…` are drover's
 * own, found by each node's agent in its own installation.
 */
import { CONTAINER_CONVERGED_MARK, CONTAINER_DATA_MOUNT, CONTAINER_PGDATA, containerScript } from "./database-container.js";
import { databaseLayout, passwordKey, SUPERUSER_PASSWORD_KEY, type DatabaseDocument, type PostgresLayout } from "./database-schema.js";
import { cronJobSpecSchema, jobSpecSchema } from "./job-schema.js";
import { normaliseJobDocument, normaliseService } from "./normalise.js";
import { serviceSpecSchema } from "./service-schema.js";
import type { JobDescriptor, ServiceDescriptor } from "./types.js";

/** The official image's tag when a docker Database names no version. */
const DEFAULT_IMAGE_VERSION = "17";

/** The database's one volume (of its one replica, ordinal 0): where its data is, and where its backup job runs. */
export const DATABASE_VOLUME = "data";

/** The annotation that marks a service (and its backup job) as a database's. */
export const DATABASE_ANNOTATION = "drover.dev/database";
/** The credentials secret's key for the URL of one of the database's databases (as its owner); `DATABASE_URL` alone is the first's. */
export function urlKey(database?: string): string {
  return database === undefined ? "DATABASE_URL" : `DATABASE_URL_${database.toUpperCase()}`;
}

export interface DatabaseParts {
  service: ServiceDescriptor;
  backup: JobDescriptor | null;
  credentials: { secret: string; keys: string[]; port: number };
}

/**
 * The credentials secret's URL entries, from its passwords: each database as its owner, over the
 * node's router. From the descriptor at apply, or from its service's (`databaseOfService`) when a
 * password alone changes.
 */
export function databaseUrls(database: { databases: PostgresLayout["databases"]; port: number }, passwords: Record<string, string>): Record<string, string> {
  const { databases, port } = database;
  const url = (d: { name: string; owner: string }) => `postgresql://${d.owner}:${encodeURIComponent(passwords[passwordKey(d.owner)] ?? "")}@127.0.0.1:${port}/${d.name}`;
  return Object.fromEntries([[urlKey(), url(databases[0]!)], ...databases.map((d) => [urlKey(d.name), url(d)])]);
}

/** What a database's service says of it: its databases with their owners, its port and its credentials secret; null for any other service. */
export function databaseOfService(descriptor: ServiceDescriptor): { databases: PostgresLayout["databases"]; port: number; secret: string } | null {
  if (!descriptor.metadata.annotations?.[DATABASE_ANNOTATION]) return null;
  const setup = JSON.parse(descriptor.spec.configuration.environment.DROVER_PG_SETUP ?? '{"databases":[]}') as { databases: PostgresLayout["databases"] };
  return { databases: setup.databases, port: descriptor.spec.networking.ports[0]!.port, secret: `${descriptor.metadata.namespace}/${credentialsSecretName(descriptor.metadata.annotations[DATABASE_ANNOTATION])}` };
}

export function credentialsSecretName(database: string): string {
  return `${database}-credentials`;
}

export function backupJobName(database: string): string {
  return `${database}-backup`;
}

export function expandDatabase(doc: DatabaseDocument, baseDir: string): DatabaseParts {
  const { metadata, spec } = doc;
  const layout = databaseLayout(doc);
  const secret = credentialsSecretName(metadata.name);
  const setup = {
    superuserPasswordEnv: SUPERUSER_PASSWORD_KEY,
    users: layout.users.map((name) => ({ name, passwordEnv: passwordKey(name) })),
    databases: layout.databases,
  };
  const version = spec.version ? { DROVER_PG_VERSION: spec.version } : {};
  const annotations = { ...metadata.annotations, [DATABASE_ANNOTATION]: metadata.name };
  const docker = spec.runtime === "docker";
  // Ready once its roles and databases are in place, not when the port first answers. The startup
  // probe gives a first start (initdb, an image's first run) ten minutes; readiness then follows.
  const converged = { exec: { command: docker ? ["test", "-f", CONTAINER_CONVERGED_MARK] : ["sh", "-c", 'test -f "$DROVER_VOLUME_DATA/run/converged"'] } };
  const parsed = serviceSpecSchema.parse({
    ...(docker
      ? { runtime: "docker", image: spec.image ?? { repository: "postgres", tag: spec.version ?? DEFAULT_IMAGE_VERSION }, command: ["sh", "-c", containerScript(layout, passwordKey)] }
      : // Its own user (postgres, where drover is root) may not enter the descriptor's folder.
        { command: ["drover:postgres-replica"], working_dir: "/" }),
    stateful: true,
    replicas: 1,
    networking: { ports: [{ name: "postgres", port: spec.port, protocol: "TCP", ...(docker ? { target_port: 5432 } : {}) }] },
    health_checks: { startup_probe: { ...converged, period: 1, failure_threshold: 600 }, readiness_probe: { ...converged, period: 2, failure_threshold: 3 } },
    deployment: { strategy: "rolling", rolling: { max_surge: 0, max_unavailable: 1 } },
    configuration: { environment: { DROVER_PG_SETUP: JSON.stringify(setup), ...version, ...(docker ? { PGDATA: CONTAINER_PGDATA } : {}) }, secrets: [secret] },
  });
  // Already-normalised values (bytes, millicores, milliseconds) go in after parsing, as they are.
  const serviceSpec = { ...parsed, resources: spec.resources, ...(spec.placement ? { placement: spec.placement } : {}), volumes: [{ name: DATABASE_VOLUME, ...(docker ? { mount_path: CONTAINER_DATA_MOUNT } : {}), ...(spec.storage.size !== undefined ? { size: spec.storage.size } : {}) }], stop: { signal: "SIGTERM" as const, grace_period: spec.stop.grace_period } };
  const service = normaliseService({ apiVersion: doc.apiVersion, kind: "Service", metadata: { ...metadata, annotations }, spec: serviceSpec }, baseDir);

  let backup: JobDescriptor | null = null;
  if (spec.backups) {
    const { schedule, time_zone, retain, webhook, failed_history } = spec.backups;
    const job = jobSpecSchema.parse({
      command: ["drover:postgres-backup"],
      working_dir: "/",
      backoff_limit: 0,
      configuration: {
        environment: {
          DROVER_BACKUP_SUBDIR: `${metadata.namespace}/${metadata.name}`,
          DROVER_BACKUP_DATABASES: layout.databases.map((d) => d.name).join(","),
          DROVER_BACKUP_RETAIN: JSON.stringify(retain),
          PGHOST: "127.0.0.1",
          PGPORT: String(spec.port),
          PGUSER: "postgres",
          ...version,
          ...(webhook ? { DROVER_BACKUP_WEBHOOK: webhook } : {}),
        },
        secrets: [secret],
      },
    });
    const cron = cronJobSpecSchema.omit({ job: true }).parse({ schedule, ...(time_zone ? { time_zone } : {}), concurrency_policy: "Forbid", successful_history: 3, failed_history });
    backup = normaliseJobDocument({ apiVersion: doc.apiVersion, kind: "CronJob", metadata: { ...metadata, name: backupJobName(metadata.name), annotations } }, job, baseDir, cron);
  }
  return { service, backup, credentials: { secret, keys: [SUPERUSER_PASSWORD_KEY, ...layout.users.map(passwordKey)], port: spec.port } };
}
