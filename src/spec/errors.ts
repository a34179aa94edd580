/** One problem found in a descriptor, located as precisely as the source allows. */
export interface SpecIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. `spec.health_checks.liveness_probe.http_get.port`; empty for the document. */
  path: string;
  message: string;
  severity: "error" | "warning";
  /** Set for admission policy violations (as opposed to a malformed descriptor). */
  policy?: string;
}

/** `services.yaml:14:7 spec.networking.ports[0].port: must be 1-65535` */
export function formatIssue(issue: SpecIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  const prefix = issue.severity === "warning" ? "warning: " : "";
  return `${where} ${prefix}${issue.path ? `${issue.path}: ` : ""}${issue.message}`;
}

/**
 * Thrown when descriptors are invalid; carries every issue found, so a user fixes them all in
 * one pass. Nothing has been changed when this is thrown.
 *
 * @example
 *   try { loadDescriptors(files) } catch (e) { if (e instanceof SpecError) e.issues.map(formatIssue) }
 */
export class SpecError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(issues.filter((i) => i.severity === "error").map(formatIssue).join("\n"));
    this.name = "SpecError";
  }
}

export function pathToString(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text ? `.${String(segment)}` : String(segment);
  }
  return text;
}
