/** drover's version, from its package.json (read once; the file ships with drover). */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function findVersion(): string {
  // src/version.ts runs as dist/src/version.js: package.json is two folders up.
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../package.json");
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export const VERSION = findVersion();
