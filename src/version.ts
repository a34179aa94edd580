/** drover's version, from its package.json (read once; the file ships with drover). */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** drover's installed package: src/version.ts runs as dist/src/version.js, so package.json is two folders up. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The script that runs drover's CLI, for drover to run itself (agents of the node pools). */
export const DROVER_MAIN = path.join(PACKAGE_ROOT, "dist", "src", "cli", "main.js");

function findVersion(): string {
  const file = path.join(PACKAGE_ROOT, "package.json");
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export const VERSION = findVersion();
