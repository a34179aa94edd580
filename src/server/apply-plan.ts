/**
 * The plan shown before an apply: per object, created / changed (with a field-by-field diff) /
 * unchanged / deleted. Pure; the same diff serves `drover diff` between revisions.
 */
import crypto from "node:crypto";
import type { ServiceDescriptor } from "../spec/index.js";
import { canonicalJson } from "../canonical-json.js";
import type { FieldChange } from "../contract/index.js";



/** The part of a descriptor that makes a revision: everything but the replica count. */
export function revisionDescriptor(descriptor: ServiceDescriptor): ServiceDescriptor {
  const { replicas: _replicas, ...spec } = descriptor.spec;
  return { ...descriptor, spec: spec as ServiceDescriptor["spec"] };
}

/** sha256 of the canonical JSON (keys sorted), so equal content always hashes equal. */
export function contentHash(value: unknown): string {
  return crypto.createHash("sha256").update(canonicalJson(value)).digest("hex");
}


/** Leaf-level differences between two JSON values, with dotted paths. */
export function diffValues(before: unknown, after: unknown, path = ""): FieldChange[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffValues(before[key], after[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => diffValues(item, after[i], `${path}[${i}]`));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  return [{ path, before, after }];
}

/** Secret values never leave the store in a plan. */
export function redact(changes: FieldChange[]): FieldChange[] {
  const hidden = "(redacted)";
  return changes.map((c) => ({ path: c.path, ...(c.before !== undefined && { before: hidden }), ...(c.after !== undefined && { after: hidden }) }));
}
