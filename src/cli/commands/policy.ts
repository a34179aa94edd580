/** `drover policy test`, `drover keygen` and `drover sign`: admission policies and signed descriptors. */
import fs from "node:fs";
import type { Command } from "commander";
import { formatIssue, type SpecIssue } from "../../spec/index.js";
import { generateKeyPair, sign } from "../../security/signatures.js";
import { ApiClient, CliError, EXIT_USAGE } from "../client.js";
import { readDescriptorFiles } from "../files.js";
import { color } from "../output.js";

export function registerPolicy(program: Command): void {
  const policy = program.command("policy").description("admission policies (kind: Policy): every applied service is checked against them");
  policy
    .command("test")
    .description("check descriptors against the server's policies and those in the files, changing nothing: each violation with its place and field; exit 1 when one is enforced")
    .requiredOption("-f, --file <path...>", "descriptor file(s) or folder(s), - for standard input")
    .action(async (flags: { file: string[] }) => {
      const { violations } = await new ApiClient().post<{ violations: SpecIssue[] }>("/api/v1/policies/test", { files: readDescriptorFiles(flags.file) });
      for (const v of violations) process.stdout.write(`${v.severity === "error" ? color.red("enforce") : color.yellow("warn   ")} ${formatIssue(v)}\n`);
      const enforced = violations.filter((v) => v.severity === "error").length;
      process.stdout.write(`${violations.length === 0 ? color.green("no violations") : `${enforced} enforced, ${violations.length - enforced} warned`}\n`);
      if (enforced > 0) process.exitCode = 1;
    });

  program
    .command("keygen")
    .description("make an Ed25519 key pair for signing descriptors: NAME.key (private, 0600) and NAME.pub (copy it into DROVER_HOME/trust/ on servers that trust it)")
    .argument("<name>", "the key's name, e.g. release")
    .option("--dir <dir>", "where to write the files", ".")
    .action((name: string, flags: { dir: string }) => {
      try {
        const files = generateKeyPair(flags.dir, name);
        process.stdout.write(`private key ${files.privateKey} (keep it secret)\npublic key  ${files.publicKey}\n`);
      } catch (error) {
        throw new CliError((error as Error).message, EXIT_USAGE);
      }
    });

  program
    .command("sign")
    .description("sign a descriptor file: writes FILE.sig (Ed25519 over the file's documents with keys sorted, so only content counts); apply sends it along")
    .requiredOption("-k, --key <file>", "the private key (from drover keygen)")
    .argument("<file>", "the descriptor file")
    .action((file: string, flags: { key: string }) => {
      let key: string;
      let text: string;
      try {
        key = fs.readFileSync(flags.key, "utf8");
        text = fs.readFileSync(file, "utf8");
      } catch (error) {
        throw new CliError(`cannot read ${(error as NodeJS.ErrnoException).path ?? file}: ${(error as NodeJS.ErrnoException).code}`, EXIT_USAGE);
      }
      let signature: string;
      try {
        signature = sign(key, text);
      } catch (error) {
        throw new CliError(`cannot sign with ${flags.key}: ${(error as Error).message}`, EXIT_USAGE);
      }
      fs.writeFileSync(`${file}.sig`, `${signature}\n`);
      process.stdout.write(`wrote ${file}.sig\n`);
    });
}
