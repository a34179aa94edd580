/**
 * `kind: ConfigMap` and `kind: Secret` documents. Secret `data` is base64 as in Kubernetes;
 * `string_data` takes plain text. Both end up as one map of plain strings.
 */
import { z } from "zod";
import { didYouMean } from "./did-you-mean.js";
import { describeInput, envValue } from "./fields.js";
import { metadataSchema } from "./service-schema.js";

/** A key of a config map or secret (also checked where `drover secret set` sends keys). */
export const dataKey = z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: "must be letters, digits, '-', '_' or '.'" });

export const configMapDocumentSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal("ConfigMap"),
  metadata: metadataSchema,
  data: z.record(dataKey, envValue).default({}),
});

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: "is not base64 (use string_data for plain text)" })
  .transform((text) => Buffer.from(text, "base64").toString("utf8"));

export const secretDocumentSchema = z
  .strictObject({
    apiVersion: z.string(),
    kind: z.literal("Secret"),
    metadata: metadataSchema,
    data: z.record(dataKey, base64).default({}),
    string_data: z.record(dataKey, envValue).default({}),
  })
  .transform(({ string_data, ...secret }) => ({ ...secret, data: { ...secret.data, ...string_data } }));

export type ConfigMapDocument = z.output<typeof configMapDocumentSchema>;
export type SecretDocument = z.output<typeof secretDocumentSchema>;

/** `kind: Policy`: admission rules every applied service is checked against (all namespaces, or those listed). */
const mode = z.enum(["enforce", "warn"]).default("enforce");
export const POLICY_RULES = ["require_non_root", "require_resource_limits", "forbid_capabilities", "require_read_only_root_filesystem", "require_probes", "allowed_runtimes", "require_signature"] as const;
const policyRule = z.discriminatedUnion("rule", [
  z.strictObject({ rule: z.literal("require_non_root"), mode }),
  z.strictObject({ rule: z.literal("require_resource_limits"), mode, resources: z.array(z.enum(["cpu", "memory"])).default(["cpu", "memory"]) }),
  z.strictObject({ rule: z.literal("forbid_capabilities"), mode, capabilities: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ rule: z.literal("require_read_only_root_filesystem"), mode }),
  z.strictObject({ rule: z.literal("require_probes"), mode, probes: z.array(z.enum(["startup", "liveness", "readiness"])).default(["liveness", "readiness"]) }),
  z.strictObject({ rule: z.literal("allowed_runtimes"), mode, runtimes: z.array(z.enum(["process", "docker"])).min(1) }),
  z.strictObject({ rule: z.literal("require_signature"), mode }),
], {
  error: (issue) => {
    const rule = (issue.input as { rule?: unknown } | undefined)?.rule ?? issue.input;
    return `expected a rule: one of ${POLICY_RULES.join(", ")}, got ${describeInput(rule)}${typeof rule === "string" ? didYouMean(rule, [...POLICY_RULES]) : ""}`;
  },
});

export const policyDocumentSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal("Policy"),
  metadata: metadataSchema,
  spec: z.strictObject({
    /** Namespaces the policy covers; empty: all of them. */
    namespaces: z.array(z.string().min(1)).default([]),
    rules: z.array(policyRule).min(1, { error: "a policy needs at least one rule" }),
  }),
});

export type PolicyDocument = z.output<typeof policyDocumentSchema>;
export type PolicyRule = PolicyDocument["spec"]["rules"][number];
