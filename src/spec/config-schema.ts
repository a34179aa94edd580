/**
 * `kind: ConfigMap` and `kind: Secret` documents. Secret `data` is base64 as in Kubernetes;
 * `string_data` takes plain text. Both end up as one map of plain strings.
 */
import { z } from "zod";
import { envValue } from "./fields.js";
import { metadataSchema } from "./service-schema.js";

const dataKey = z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: "must be letters, digits, '-', '_' or '.'" });

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
