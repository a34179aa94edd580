/**
 * Zod field types shared by every descriptor kind: unit-carrying quantities, names and maps.
 * Unit fields accept what a person writes ("30s", "250m", "64Mi") and yield drover's internal
 * unit, so the rest of drover never parses a string again.
 */
import { z } from "zod";
import { parseCountOrPercent, parseCpu, parseDuration, parseMemory, UnitError } from "./units.js";

function unitField<T>(parse: (input: number | string) => T, what: string) {
  return z
    .union([z.number(), z.string()], { error: (issue) => `expected ${what}, got ${describeInput(issue.input)}` })
    .transform((input, ctx): T => {
      try {
        return parse(input);
      } catch (error) {
        if (!(error instanceof UnitError)) throw error;
        ctx.issues.push({ code: "custom", message: error.message, input });
        return z.NEVER;
      }
    });
}

/** Milliseconds, from seconds or a string with ms/s/m/h. */
export const duration = unitField(parseDuration, "a duration such as 30 or \"500ms\"");
/** Millicores, from cores or "250m". */
export const cpu = unitField(parseCpu, "a CPU quantity such as 2 or \"250m\"");
/** Bytes, from a number or "64Mi". */
export const memory = unitField(parseMemory, "a memory quantity such as \"256Mi\"");
/** A count or percentage, such as 1 or "25%". */
export const countOrPercent = unitField(parseCountOrPercent, "a count or a percentage such as 1 or \"25%\"");

/** Names of services, config maps and secrets: DNS labels, as Kubernetes uses them. */
export const dnsName = z
  .string({ error: (issue) => `expected a name, got ${describeInput(issue.input)}` })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    error: "must be lowercase letters, digits and '-', starting and ending with a letter or digit",
  })
  .max(63, { error: "must be at most 63 characters" });

/** Scalars written in YAML as numbers or booleans are kept as the strings a process sees. */
export const envValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error: (issue) => `expected a string, number or boolean, got ${describeInput(issue.input)}`,
  })
  .transform((value) => String(value));

export const environment = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "is not a valid environment variable name" }),
  envValue,
);

export const labels = z.record(z.string(), envValue);

export const positiveInt = z.number({ error: (issue) => `expected an integer, got ${describeInput(issue.input)}` }).int({ error: "expected an integer" }).min(1, { error: "must be at least 1" });
export const nonNegativeInt = z.number({ error: (issue) => `expected an integer, got ${describeInput(issue.input)}` }).int({ error: "expected an integer" }).min(0, { error: "must be 0 or more" });

/** How a value reads in an error message: its type and, when short, itself. */
export function describeInput(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") return input.length <= 40 ? `the string "${input}"` : "a string";
  return `${typeof input} ${String(input)}`;
}
