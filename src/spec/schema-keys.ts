/**
 * Walks a zod schema along a data path to find which keys an object there accepts, so an
 * unknown key can be answered with "did you mean". Zod's issues name the stray key but not the
 * allowed ones.
 */
import type { z } from "zod";

interface DefView {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

function def(schema: z.ZodType): DefView {
  return (schema as unknown as { _zod: { def: DefView } })._zod.def;
}

/** Object schemas that may stand at `path` (several when unions allow several shapes). */
function schemasAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  const d = def(schema);
  switch (d.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
      return schemasAt(d.innerType!, path);
    case "pipe":
      return schemasAt(d.in!, path);
    case "union":
      return d.options!.flatMap((option) => schemasAt(option, path));
  }
  if (path.length === 0) return d.type === "object" ? [schema] : [];
  const [head, ...rest] = path;
  if (d.type === "object") {
    const child = d.shape![String(head)];
    return child ? schemasAt(child, rest) : [];
  }
  if (d.type === "array") return schemasAt(d.element!, rest);
  if (d.type === "record") return schemasAt(d.valueType!, rest);
  return [];
}

export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(schemasAt(schema, path).flatMap((s) => Object.keys(def(s).shape ?? {})))];
}
