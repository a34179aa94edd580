/**
 * From descriptor files to a validated, normalised {@link DescriptorSet}, or a {@link SpecError}
 * listing every problem at once.
 */
import type { z } from "zod";
import { configMapDocumentSchema, policyDocumentSchema, secretDocumentSchema, type PolicyDocument } from "./config-schema.js";
import { checkDescriptors, type Unresolved, type KnownObjects, type LocatedDescriptors } from "./checks.js";
import { didYouMean } from "./did-you-mean.js";
import { SpecError, type SpecIssue } from "./errors.js";
import { describeInput } from "./fields.js";
import { knownKeysAt } from "./schema-keys.js";
import { cronJobDocumentSchema, jobDocumentSchema, type CronJobDocumentParsed, type JobDocumentParsed } from "./job-schema.js";
import { normaliseJobDocument, normaliseService } from "./normalise.js";
import { databaseDocumentSchema, type DatabaseDocument } from "./database-schema.js";
import { expandDatabase } from "./database-expand.js";
import { nodePoolDocumentSchema, type NodePoolDocument } from "./pool-schema.js";
import { serviceDocumentSchema, type ServiceDocumentParsed } from "./service-schema.js";
import { qualifiedName, type DescriptorSet, type ServiceDescriptor } from "./types.js";
import { issueAt, parseYamlFile, type SourceDocument } from "./yaml-source.js";

export const API_VERSIONS = ["drover/v1", "mohhos.io/v1"];
const SCHEMAS = { Service: serviceDocumentSchema, ConfigMap: configMapDocumentSchema, Secret: secretDocumentSchema, Policy: policyDocumentSchema, NodePool: nodePoolDocumentSchema, Job: jobDocumentSchema, CronJob: cronJobDocumentSchema, Database: databaseDocumentSchema };
type Kind = keyof typeof SCHEMAS;

export interface DescriptorFile {
  /** The name used in messages; usually the path as the user typed it. */
  file: string;
  text: string;
  /** Folder that relative paths in the file (working_dir) are resolved against. */
  baseDir: string;
  /** An Ed25519 signature of the file's canonical form (from FILE.sig), base64, when there is one. */
  signature?: string;
}

export interface LoadOptions {
  /** Objects that already exist (in the store), which references may name. */
  known?: KnownObjects;
  /**
   * A reference to something neither in the files nor known: an error, a warning that it must
   * exist by the time of applying (offline validation), or a warning that the service will wait
   * for it (applying).
   */
  unresolved?: Unresolved;
  /**
   * Admission: the policy violations of a service (its field paths, the rule, enforce or warn);
   * they become errors or warnings at the field's place in the file. `file` is the file it came
   * from, `policies` those in the files being loaded.
   */
  admit?: (service: ServiceDescriptor, file: string, policies: PolicyDocument[]) => Array<{ policy: string; path: PropertyKey[]; message: string; mode: "enforce" | "warn" }>;
}

/** @throws SpecError when anything is invalid; warnings are returned in the set. */
export function loadDescriptors(files: DescriptorFile[], options: LoadOptions = {}): DescriptorSet {
  const issues: SpecIssue[] = [];
  const located: LocatedDescriptors = { services: [], configMaps: [], secrets: [], policies: [], pools: [], jobs: [], databases: [] };
  for (const { file, text, baseDir } of files) {
    const parsed = parseYamlFile(file, text);
    issues.push(...parsed.issues);
    if (parsed.documents.length === 0 && parsed.issues.length === 0) {
      issues.push({ file, line: 1, column: 1, path: "", message: "holds no descriptor", severity: "error" });
    }
    for (const doc of parsed.documents) parseDocument(doc, baseDir, located, issues);
  }
  issues.push(...checkDescriptors(located, options.known, options.unresolved ?? "error"));
  if (options.admit) {
    const policies = located.policies.map((p) => p.value);
    for (const service of located.services) {
      for (const violation of options.admit(service.value, service.file, policies)) {
        issues.push({ ...issueAt(service.doc, violation.path, violation.message, { severity: violation.mode === "enforce" ? "error" : "warning" }), policy: violation.policy });
      }
    }
  }
  if (issues.some((issue) => issue.severity === "error")) throw new SpecError(sortIssues(issues));
  return {
    services: located.services.map((s) => s.value),
    configMaps: located.configMaps.map((c) => c.value),
    secrets: located.secrets.map((s) => s.value),
    policies: located.policies.map((p) => p.value),
    pools: located.pools.map((p) => p.value),
    jobs: located.jobs.map((j) => j.value),
    databases: located.databases.map((d) => d.value),
    warnings: sortIssues(issues),
  };
}

function parseDocument(doc: SourceDocument, baseDir: string, into: LocatedDescriptors, issues: SpecIssue[]): void {
  const data = doc.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    issues.push(issueAt(doc, [], `a descriptor must be a mapping with apiVersion, kind and metadata, got ${describeInput(data)}`));
    return;
  }
  const record = data as Record<string, unknown>;
  const apiVersion = record.apiVersion;
  if (typeof apiVersion !== "string" || !API_VERSIONS.includes(apiVersion)) {
    const message = apiVersion === undefined ? "required" : `unknown apiVersion ${JSON.stringify(apiVersion)}`;
    issues.push(issueAt(doc, ["apiVersion"], `${message} (use ${API_VERSIONS.join(" or ")})${typeof apiVersion === "string" ? didYouMean(apiVersion, API_VERSIONS) : ""}`));
  }
  const kind = record.kind;
  if (typeof kind !== "string" || !Object.hasOwn(SCHEMAS, kind)) {
    const message = kind === undefined ? "required" : `unknown kind ${JSON.stringify(kind)}`;
    issues.push(issueAt(doc, ["kind"], `${message} (use Service, ConfigMap, Secret, Policy, NodePool, Job, CronJob or Database)${typeof kind === "string" ? didYouMean(kind, Object.keys(SCHEMAS)) : ""}`));
    return;
  }
  const schema = SCHEMAS[kind as Kind];
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) {
    issues.push(...result.error.issues.flatMap((issue) => toSpecIssues(doc, schema, issue)));
    return;
  }
  const at = { file: doc.file, line: doc.locate([]).line, doc };
  if (kind === "Service") into.services.push({ ...at, value: normaliseService(result.data as ServiceDocumentParsed, baseDir) });
  else if (kind === "ConfigMap") into.configMaps.push({ ...at, value: result.data as z.output<typeof configMapDocumentSchema> });
  else if (kind === "Secret") into.secrets.push({ ...at, value: result.data as z.output<typeof secretDocumentSchema> });
  else if (kind === "Policy") into.policies.push({ ...at, value: result.data as PolicyDocument });
  else if (kind === "NodePool") into.pools.push({ ...at, value: result.data as NodePoolDocument });
  else if (kind === "Database") {
    const document = result.data as DatabaseDocument;
    const parts = expandDatabase(document, baseDir);
    into.services.push({ ...at, value: parts.service });
    if (parts.backup) into.jobs.push({ ...at, value: parts.backup });
    into.databases.push({ ...at, value: { name: qualifiedName(document.metadata), document, credentials: parts.credentials, backupJob: parts.backup ? qualifiedName(parts.backup.metadata) : null } });
  } else if (kind === "Job") {
    const job = result.data as JobDocumentParsed;
    into.jobs.push({ ...at, value: normaliseJobDocument(job, job.spec, baseDir) });
  } else {
    const { spec, ...cronJob } = result.data as CronJobDocumentParsed;
    const { job, ...cron } = spec;
    into.jobs.push({ ...at, value: normaliseJobDocument(cronJob, job, baseDir, cron) });
  }
}

function toSpecIssues(doc: SourceDocument, schema: z.ZodType, issue: z.core.$ZodIssue): SpecIssue[] {
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(schema, issue.path);
    return issue.keys.map((key) => issueAt(doc, [...issue.path, key], `unknown field${didYouMean(key, known)}`, { at: "key" }));
  }
  if (issue.code === "invalid_type" && issue.input === undefined) return [issueAt(doc, issue.path, "required")];
  if (issue.code === "invalid_value" && "values" in issue) {
    const got = describeInput(issue.input);
    const options = issue.values.map((v) => JSON.stringify(v)).join(", ");
    const suggestion = typeof issue.input === "string" ? didYouMean(issue.input, issue.values.map(String)) : "";
    return [issueAt(doc, issue.path, `expected one of ${options}, got ${got}${suggestion}`)];
  }
  if (issue.code === "invalid_type") {
    return [issueAt(doc, issue.path, `expected ${issue.expected}, got ${describeInput(issue.input)}`)];
  }
  return [issueAt(doc, issue.path, issue.message)];
}

function sortIssues(issues: SpecIssue[]): SpecIssue[] {
  return [...issues].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}
