/** Plan, confirm, apply: shared by `drover apply` and `drover up`. */
import os from "node:os";
import readline from "node:readline/promises";
import type { SpecIssue } from "../spec/index.js";
import { ApiClient, CliError } from "./client.js";
import { readDescriptorFiles } from "./files.js";
import { formatPlan, hasChanges, printIssues } from "./plan-output.js";
import type { AppliedService, PlanEntry } from "../contract/index.js";

export interface ApplyFlags {
  file: string[];
  prune?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  message?: string;
}

interface PlanResponse {
  entries: PlanEntry[];
  warnings: SpecIssue[];
}

/** Returns the applied services, or undefined when nothing was applied (dry run, declined). */
export async function planAndApply(client: ApiClient, flags: ApplyFlags, confirm: boolean): Promise<AppliedService[] | undefined> {
  const files = readDescriptorFiles(flags.file);
  const body = { files, prune: flags.prune ?? false, author: author(), message: flags.message ?? "" };
  const plan = await client.post<PlanResponse>("/api/v1/plan", body);
  printIssues(plan.warnings);
  process.stdout.write(`${formatPlan(plan.entries)}\n`);
  if (flags.dryRun) return undefined;
  if (confirm && hasChanges(plan.entries) && !flags.yes && process.stdin.isTTY) {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question("apply this plan? [y/N] ");
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError("not applied");
  }
  const result = await client.post<{ services: AppliedService[] }>("/api/v1/apply", body);
  return result.services;
}

function author(): string {
  try {
    return os.userInfo().username;
  } catch {
    return "unknown";
  }
}
