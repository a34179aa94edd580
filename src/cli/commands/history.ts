import type { Command } from "commander";
import type { RevisionRecord } from "../../contract/index.js";
import { ApiClient, servicePath } from "../client.js";
import { age, printStructured, table } from "../output.js";

export function registerHistory(program: Command): void {
  program
    .command("history")
    .description("list the revisions of a service: number, version, author, age, message")
    .argument("<service>", "name or namespace/name")
    .option("-o, --output <format>", "table, json or yaml", "table")
    .action(async (name: string, flags: { output: string }) => {
      const { revisions } = await new ApiClient().get<{ revisions: RevisionRecord[] }>(`${servicePath(name)}/revisions`);
      if (printStructured(flags.output, revisions)) return;
      const rows = revisions.map((r) => [String(r.number), r.descriptor.metadata.version ?? "-", r.hash.slice(0, 12), r.author, `${age(r.createdAt)} ago`, r.message]);
      process.stdout.write(`${table(["REVISION", "VERSION", "HASH", "AUTHOR", "CREATED", "MESSAGE"], rows)}\n`);
    });
}
