import type { z } from "zod";
import { BadRequestError } from "../errors.js";
import { pathToString } from "../spec/errors.js";

/** Parses a request body or query with a zod schema; the first problem becomes a 400 naming its field. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new BadRequestError(issue.message, pathToString(issue.path) || "body");
}
