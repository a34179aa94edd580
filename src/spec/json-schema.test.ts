import { test } from "node:test";
import assert from "node:assert/strict";
import { descriptorJsonSchema } from "./json-schema.js";

test("the JSON Schema describes every kind with its fields, as written (units as strings or numbers)", () => {
  const schema = descriptorJsonSchema() as { oneOf: Array<{ title: string; properties: Record<string, { properties?: Record<string, unknown>; enum?: string[] }>; additionalProperties?: boolean }> };
  assert.deepEqual(schema.oneOf.map((k) => k.title), ["Service", "ConfigMap", "Secret", "Policy", "NodePool", "Job", "CronJob", "Database"]);
  const service = schema.oneOf[0]!;
  assert.equal(service.additionalProperties, false, "unknown keys are flagged by editors too");
  assert.deepEqual(service.properties.apiVersion!.enum, ["drover/v1", "mohhos.io/v1"]);
  const spec = service.properties.spec!.properties!;
  for (const field of ["command", "networking", "health_checks", "restart", "healing", "stop", "dependencies", "configuration", "security", "deployment", "scaling"]) {
    assert.ok(field in spec, `spec.${field}`);
  }
  const stop = (spec.stop as { properties: { grace_period: { type: string[] } } }).properties.grace_period;
  assert.deepEqual(stop.type, ["number", "string"]);
  assert.doesNotThrow(() => JSON.stringify(schema));
});
