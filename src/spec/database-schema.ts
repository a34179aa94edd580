/**
 * `kind: Database`: a managed PostgreSQL. It stands for three objects drover keeps for it — a
 * stateful Service running PostgreSQL on a volume, a Secret `<name>-credentials` with generated
 * passwords (made by the server, kept on every apply), and, with `backups`, a CronJob running
 * pg_dump with retention — and services reach it through `configuration.databases`.
 */
import { z } from "zod";
import { duration, memory, nonNegativeInt, positiveInt } from "./fields.js";
import { cronJobSpecSchema } from "./job-schema.js";
import { metadataSchema, serviceFields } from "./service-schema.js";

/** PostgreSQL role and database names drover makes: plain identifiers, so they need no quoting anywhere. */
const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "must be lowercase letters, digits and '_', starting with a letter or '_' (at most 63)" });

export const databaseSpecSchema = z
  .strictObject({
  engine: z.enum(["postgresql"]).default("postgresql"),
  /** The major version: Debian's server binaries of it (/usr/lib/postgresql/<version>); default the newest installed. For docker, the image's tag. */
  version: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(/^\d+$/, { error: "expected a major version such as 15" })).optional(),
  /** process: the node's own PostgreSQL server binaries; docker: a container of `image`. */
  runtime: z.enum(["process", "docker"]).default("process"),
  /** For docker: an image that works as the official postgres image does (POSTGRES_PASSWORD, PGDATA, docker-entrypoint.sh, psql); default {repository: postgres, tag: <version or 17>}, as a service's image. */
  image: serviceFields.shape.image,
  /** Where drover's router listens for it (TCP). */
  port: z.number().int().min(1, { error: "must be 1-65535" }).max(65535, { error: "must be 1-65535" }),
  storage: z.strictObject({ size: memory.optional() }).prefault({}),
  databases: z.array(z.strictObject({ name: identifier, owner: identifier.optional() })).optional(),
  users: z.array(z.strictObject({ name: identifier })).optional(),
  resources: serviceFields.shape.resources,
  placement: serviceFields.shape.placement,
  stop: z.strictObject({ grace_period: duration.default(30_000) }).prefault({}),
  backups: z
    .strictObject({
      schedule: cronJobSpecSchema.shape.schedule,
      time_zone: cronJobSpecSchema.shape.time_zone,
      retain: z.strictObject({ count: positiveInt.optional(), days: positiveInt.optional() }).prefault({}),
      /** Told (a JSON POST) when a backup fails. */
      webhook: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).optional(),
      /** Failed backup runs kept (with their output). */
      failed_history: nonNegativeInt.default(3),
    })
    .optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.image !== undefined && spec.runtime !== "docker") ctx.addIssue({ code: "custom", path: ["image"], message: "an image needs runtime: docker (the process runtime runs the node's own PostgreSQL binaries)" });
  });

export const databaseDocumentSchema = z.strictObject({ apiVersion: z.string(), kind: z.literal("Database"), metadata: metadataSchema, spec: databaseSpecSchema });

export type DatabaseDocument = z.output<typeof databaseDocumentSchema>;

export interface PostgresLayout {
  databases: Array<{ name: string; owner: string }>;
  users: string[];
}

/** A Database's own roles and databases, defaults filled in: one database and one user named after it. */
export function databaseLayout(doc: DatabaseDocument): PostgresLayout {
  const fallback = doc.metadata.name.replace(/-/g, "_");
  const databases = (doc.spec.databases ?? [{ name: fallback }]).map((d) => ({ name: d.name, owner: d.owner ?? doc.spec.users?.[0]?.name ?? fallback }));
  const users = [...new Set([...(doc.spec.users ?? []).map((u) => u.name), ...databases.map((d) => d.owner)])];
  return { databases, users };
}

/** The credentials secret's key for a user's password. */
export function passwordKey(user: string): string {
  return `${user.toUpperCase()}_PASSWORD`;
}

export const SUPERUSER_PASSWORD_KEY = "POSTGRES_PASSWORD";
