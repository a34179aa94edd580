/** The JSON Schema of descriptors, for editors (`drover schema`). */
import { z } from "zod";
import { configMapDocumentSchema, policyDocumentSchema, secretDocumentSchema } from "./config-schema.js";
import { databaseDocumentSchema } from "./database-schema.js";
import { cronJobDocumentSchema, jobDocumentSchema } from "./job-schema.js";
import { nodePoolDocumentSchema } from "./pool-schema.js";
import { API_VERSIONS } from "./load.js";
import { serviceDocumentSchema } from "./service-schema.js";

export function descriptorJsonSchema(): Record<string, unknown> {
  const kinds = { Service: serviceDocumentSchema, ConfigMap: configMapDocumentSchema, Secret: secretDocumentSchema, Policy: policyDocumentSchema, NodePool: nodePoolDocumentSchema, Job: jobDocumentSchema, CronJob: cronJobDocumentSchema, Database: databaseDocumentSchema };
  const oneOf = Object.entries(kinds).map(([kind, schema]) => {
    const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    delete json.$schema;
    const properties = json.properties as Record<string, unknown>;
    properties.apiVersion = { type: "string", enum: API_VERSIONS };
    return { title: kind, ...json };
  });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://drover.dev/schema/v1/descriptor.json",
    title: "drover descriptor",
    description: "A drover Service, ConfigMap, Secret, Policy, NodePool, Job, CronJob or Database document (apiVersion drover/v1).",
    oneOf,
  };
}
