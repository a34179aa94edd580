/** Reads the descriptor files named by -f: files, folders (their .yaml/.yml files) or - for stdin. */
import fs from "node:fs";
import path from "node:path";
import type { DescriptorFile } from "../spec/index.js";
import { CliError, EXIT_USAGE } from "./client.js";

export function readDescriptorFiles(paths: string[]): DescriptorFile[] {
  if (paths.length === 0) throw new CliError("no descriptor given: use -f FILE (a file, a folder or - for standard input)", EXIT_USAGE);
  const files: DescriptorFile[] = [];
  for (const given of paths) {
    if (given === "-") {
      files.push({ file: "<stdin>", text: fs.readFileSync(0, "utf8"), baseDir: process.cwd() });
      continue;
    }
    const full = path.resolve(given);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      throw new CliError(`${given}: no such file or folder`, EXIT_USAGE);
    }
    const entries = stat.isDirectory()
      ? fs.readdirSync(full).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(full, f))
      : [full];
    if (entries.length === 0) throw new CliError(`${given}: the folder holds no .yaml or .yml file`, EXIT_USAGE);
    for (const entry of entries) {
      const shown = path.relative(process.cwd(), entry) || entry;
      // A signature beside the file (FILE.sig, written by drover sign) goes with it.
      const signature = fs.existsSync(`${entry}.sig`) ? fs.readFileSync(`${entry}.sig`, "utf8").trim() : undefined;
      files.push({ file: shown.startsWith("..") ? entry : shown, text: fs.readFileSync(entry, "utf8"), baseDir: path.dirname(entry), ...(signature ? { signature } : {}) });
    }
  }
  return files;
}
