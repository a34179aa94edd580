#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with Node's test runner. Test files run in
// parallel processes; each test uses its own DROVER_HOME and ports, so they do not collide.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return find(full);
    return entry.name.endsWith(".test.js") ? [full] : [];
  });
}

const only = process.argv.slice(2);
// Only tests whose source still exists: the compiler leaves the output of a deleted or renamed file behind.
const hasSource = (f) => fs.existsSync(f.replace(/^dist[\\/]/, "").replace(/\.js$/, ".ts"));
const files = find("dist").filter((f) => hasSource(f) && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
if (files.length === 0) {
  console.error("no test files found under dist/ (run npm run build first)");
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
const result = spawnSync(process.execPath, ["--test", `--test-concurrency=${concurrency}`, "--test-timeout=300000", ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
