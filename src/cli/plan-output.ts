/** How a plan and descriptor problems read in a terminal. */
import { formatIssue, type SpecIssue } from "../spec/errors.js";
import { color } from "./output.js";
import type { FieldChange, PlanEntry } from "../contract/index.js";

const MARK = { create: color.green("+ create"), change: color.yellow("~ change"), unchanged: color.dim("= unchanged"), delete: color.red("- delete") };

export function formatPlan(entries: PlanEntry[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    lines.push(`${MARK[entry.action]}  ${entry.kind} ${entry.name}`);
    if (entry.action === "change") lines.push(...formatChanges(entry.changes, "      "));
  }
  const count = (action: PlanEntry["action"]) => entries.filter((e) => e.action === action).length;
  lines.push(`plan: ${count("create")} to create, ${count("change")} to change, ${count("delete")} to delete, ${count("unchanged")} unchanged`);
  return lines.join("\n");
}

/** One line per changed field: `+ added`, `- removed`, `~ before → after` (coloured on a terminal). */
export function formatChanges(changes: FieldChange[], indent: string): string[] {
  return changes.map((change) => {
    if (change.before === undefined) return color.green(`${indent}+ ${change.path}: ${show(change.after)}`);
    if (change.after === undefined) return color.red(`${indent}- ${change.path}: ${show(change.before)}`);
    return color.yellow(`${indent}~ ${change.path}: ${show(change.before)} → ${show(change.after)}`);
  });
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function printIssues(issues: SpecIssue[]): void {
  for (const issue of issues) {
    const text = formatIssue(issue);
    process.stderr.write(`${issue.severity === "error" ? color.red("error: ") : color.yellow("")}${text}\n`);
  }
}

export function hasChanges(entries: PlanEntry[]): boolean {
  return entries.some((e) => e.action !== "unchanged");
}
