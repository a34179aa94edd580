import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { stringify } from "yaml";
import { loadDescriptors, SpecError } from "./index.js";

const VALID = {
  apiVersion: "drover/v1",
  kind: "Service",
  metadata: { name: "api", namespace: "shop" },
  spec: {
    command: ["node", "server.js"],
    replicas: 2,
    networking: { ports: [{ name: "http", port: 8080 }] },
    health_checks: { readiness_probe: { http_get: { path: "/ready", port: "http" }, period: "2s" } },
    resources: { limits: { cpu: "500m", memory: "128Mi" } },
    restart: { policy: "always", backoff: { initial: "100ms", max: "30s" } },
  },
};

/** The loader either returns a set or throws a SpecError with located issues — never anything else. */
function load(text: string): "ok" | "invalid" {
  try {
    loadDescriptors([{ file: "fuzz.yaml", text, baseDir: "/" }], { unresolved: "validate" });
    return "ok";
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    for (const issue of error.issues) {
      assert.equal(issue.file, "fuzz.yaml");
      assert.ok(Number.isInteger(issue.line) && issue.line >= 1 && Number.isInteger(issue.column) && issue.column >= 1, JSON.stringify(issue));
      assert.ok(issue.message.length > 0);
    }
    return "invalid";
  }
}

const RUNS = Number(process.env.DROVER_FUZZ_RUNS ?? 1500);
/** Fixed, so a run is repeatable; set DROVER_FUZZ_SEED to explore further (fast-check prints the failing seed). */
const SEED = Number(process.env.DROVER_FUZZ_SEED ?? 42);
const counts: Record<string, number> = {};
const count = (what: string, outcome: string) => (counts[`${what} ${outcome}`] = (counts[`${what} ${outcome}`] ?? 0) + 1);

test("a kind named like an object's built-in property is an unknown kind, not a crash (found by the fuzzer)", () => {
  for (const kind of ["valueOf", "constructor", "__proto__", "toString"]) assert.equal(load(`apiVersion: drover/v1\nkind: ${kind}\nmetadata: {name: a}\n`), "invalid");
});

test("fuzz: arbitrary text never crashes the loader", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => void count("text", load(text))), { numRuns: RUNS, seed: SEED });
});

test("fuzz: arbitrary YAML values in place of a descriptor never crash the loader", () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => void count("yaml value", load(stringify(value)))), { numRuns: RUNS, seed: SEED });
});

test("fuzz: a valid descriptor with one field replaced by anything is either accepted or refused with its place", () => {
  const paths: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    paths.push(path);
    if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(VALID, []);
  fc.assert(
    fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.jsonValue({ maxDepth: 3 }), (path, replacement) => {
      const copy = structuredClone(VALID) as Record<string, unknown>;
      let at = copy;
      for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
      at[path[path.length - 1]!] = replacement;
      count("mutated descriptor", load(stringify(copy)));
    }),
    { numRuns: RUNS * 2, seed: SEED },
  );
  process.stdout.write(`# loader fuzz runs: ${JSON.stringify(counts)}\n`);
});
