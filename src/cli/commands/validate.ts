import type { Command } from "commander";
import { CliError, EXIT_USAGE } from "../client.js";
import { readDescriptorFiles } from "../files.js";
import { color } from "../output.js";
import { printIssues } from "../plan-output.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check descriptors offline: schema, units, references within the files, cycles")
    .requiredOption("-f, --file <path...>", "descriptor file(s) or folder(s), - for standard input")
    .addHelpText("after", "\nReferences to services, config maps or secrets that the files do not define are warnings here\n(they may exist on the server); \"drover plan\" checks them against the server.")
    .action(async (options: { file: string[] }) => {
      // The schema (zod, yaml) is loaded by the commands that need it, not by every command.
      const { loadDescriptors, SpecError } = await import("../../spec/index.js");
      try {
        const set = loadDescriptors(readDescriptorFiles(options.file), { unresolved: "validate" });
        printIssues(set.warnings);
        const count = set.services.length + set.configMaps.length + set.secrets.length;
        process.stdout.write(`${color.green("valid")}: ${count} document${count === 1 ? "" : "s"} (${set.services.length} service${set.services.length === 1 ? "" : "s"})\n`);
      } catch (error) {
        if (error instanceof SpecError) throw new CliError(`${error.issues.filter((i) => i.severity === "error").length} problem(s) found`, EXIT_USAGE, error.issues);
        throw error;
      }
    });

  program
    .command("schema")
    .description("print the JSON Schema of descriptors (for editor completion and checks)")
    .action(async () => {
      const { descriptorJsonSchema } = await import("../../spec/json-schema.js");
      process.stdout.write(`${JSON.stringify(descriptorJsonSchema(), null, 2)}\n`);
    });
}

