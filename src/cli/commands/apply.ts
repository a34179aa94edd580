import type { Command } from "commander";
import { ApiClient } from "../client.js";
import { planAndApply } from "../apply-flow.js";
import { color } from "../output.js";

export function registerApply(program: Command): void {
  program
    .command("apply")
    .description("show the plan for descriptors, then apply it (each changed service gets a new revision)")
    .requiredOption("-f, --file <path...>", "descriptor file(s) or folder(s), - for standard input")
    .option("--dry-run", "show the plan only; change nothing")
    .option("-y, --yes", "do not ask for confirmation on a terminal")
    .option("--prune", "delete services of the same namespaces that the files no longer define")
    .option("-m, --message <text>", "a note stored with the new revisions")
    .action(async (flags) => {
      const applied = await planAndApply(new ApiClient(), flags, true);
      if (!applied) return;
      const changed = applied.filter((s) => s.outcome !== "unchanged");
      process.stdout.write(`${color.green("applied")}${changed.length ? `: ${changed.map((s) => `${s.name} → revision ${s.revision}`).join(", ")}` : " (no service changed)"}\n`);
    });

  program
    .command("plan")
    .description("show what applying descriptors would change (created, changed with a diff, unchanged, deleted)")
    .requiredOption("-f, --file <path...>", "descriptor file(s) or folder(s), - for standard input")
    .option("--prune", "include services the files no longer define as deletions")
    .action(async (flags) => {
      await planAndApply(new ApiClient(), { ...flags, dryRun: true }, false);
    });
}
