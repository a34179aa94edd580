/**
 * drover as one tarball to copy to a host: its package.json, its compiled code and its runtime
 * dependencies (followed from package.json, development tools left out), so a host needs Node.js
 * and nothing from a registry. Made once per build of drover (named by its content's stamp) and
 * kept in the user's cache folder, where every server of this drover finds it.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { run } from "./host-commands.js";

/** One build at a time per bundle, however many installs ask for it at once. */
const building = new Map<string, Promise<string>>();

export function droverBundle(packageRoot: string, cacheDir: string): Promise<string> {
  const key = `${packageRoot}\0${cacheDir}`;
  let bundle = building.get(key);
  if (!bundle) {
    bundle = build(packageRoot, cacheDir);
    building.set(key, bundle);
    bundle.catch(() => building.delete(key));
  }
  return bundle;
}

async function build(packageRoot: string, cacheDir: string): Promise<string> {
  const main = path.join(packageRoot, "dist", "src", "cli", "main.js");
  const stamp = crypto.createHash("sha256").update(fs.readFileSync(path.join(packageRoot, "package.json"))).update(String(fs.statSync(main).mtimeMs)).digest("hex").slice(0, 16);
  const file = path.join(cacheDir, `drover-${stamp}.tgz`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(cacheDir, { recursive: true });
  const modules = runtimeModules(packageRoot).map((dir) => path.relative(packageRoot, dir));
  const partial = `${file}.${process.pid}.tmp`;
  await run("tar", ["-czf", partial, "-C", packageRoot, "--exclude=*.map", "--exclude=*.test.js", "package.json", "dist/src", ...modules], 120_000);
  fs.renameSync(partial, file);
  return file;
}

/** The folders of every runtime dependency, transitively, as npm laid them out (hoisted, or nested under their dependent). */
function runtimeModules(root: string): string[] {
  const found = new Set<string>();
  const visit = (fromDir: string, names: string[]) => {
    for (const name of names) {
      const dir = resolvePackage(fromDir, name, root);
      if (!dir || found.has(dir)) continue;
      found.add(dir);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
      visit(dir, [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})]);
    }
  };
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  visit(root, Object.keys(manifest.dependencies ?? {}));
  // A package nested in another's node_modules travels with its parent.
  return [...found].filter((dir) => ![...found].some((other) => other !== dir && dir.startsWith(`${other}${path.sep}`))).sort();
}

/** Where Node would find `name` from `fromDir`: its own node_modules, then each parent's, up to the root. */
function resolvePackage(fromDir: string, name: string, root: string): string | null {
  for (let dir = fromDir; dir.startsWith(root); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === root) break;
  }
  return null;
}
