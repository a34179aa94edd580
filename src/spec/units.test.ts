import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCountOrPercent, parseCpu, parseDuration, parseMemory, UnitError } from "./units.js";

test("durations: seconds, ms, s, m, h and compounds", () => {
  const cases: Array<[number | string, number]> = [[30, 30_000], [0.5, 500], ["500ms", 500], ["30s", 30_000], ["5m", 300_000], ["1h", 3_600_000], ["1m30s", 90_000], ["10", 10_000], ["1.5s", 1500]];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
  for (const bad of ["10x", "s", "", "5 m", "-1s", -1, "1m30"]) assert.throws(() => parseDuration(bad), UnitError, String(bad));
});

test("cpu: cores and millicores", () => {
  const cases: Array<[number | string, number]> = [[2, 2000], ["2", 2000], ["0.5", 500], ["250m", 250], ["2000m", 2000], [0.1, 100]];
  for (const [input, milli] of cases) assert.equal(parseCpu(input), milli, String(input));
  for (const bad of ["2 cores", "m", "1.5k", -1]) assert.throws(() => parseCpu(bad), UnitError, String(bad));
});

test("memory: bytes, binary and decimal suffixes", () => {
  const cases: Array<[number | string, number]> = [[1024, 1024], ["64Mi", 64 * 1024 ** 2], ["1Gi", 1024 ** 3], ["1G", 1e9], ["512Ki", 512 * 1024], ["1k", 1000], ["1.5Gi", 1.5 * 1024 ** 3]];
  for (const [input, bytes] of cases) assert.equal(parseMemory(input), bytes, String(input));
  for (const bad of ["64MB", "1Xi", "Gi", "-1"]) assert.throws(() => parseMemory(bad), UnitError, String(bad));
});

test("counts and percentages", () => {
  assert.deepEqual(parseCountOrPercent("25%"), { percent: 25 });
  assert.deepEqual(parseCountOrPercent(2), { count: 2 });
  assert.deepEqual(parseCountOrPercent("3"), { count: 3 });
  for (const bad of ["120%", "x", -1, 1.5]) assert.throws(() => parseCountOrPercent(bad), UnitError, String(bad));
});
