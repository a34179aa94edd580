/**
 * Parsers for the unit notations descriptors use. Each returns the value in drover's internal
 * unit (milliseconds, millicores, bytes) or throws a {@link UnitError} whose message says what
 * was expected, so the schema can attach it to the field.
 */

export class UnitError extends Error {}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30` (seconds), `"500ms"`, `"30s"`, `"5m"`, `"1h"`, `"1m30s"` → milliseconds. */
export function parseDuration(input: number | string): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) throw new UnitError(`duration must be a non-negative number of seconds, got ${input}`);
    return Math.round(input * 1000);
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new UnitError(`"${input}" is not a duration (use seconds or a number with ms, s, m or h, e.g. "500ms", "30s", "5m")`);
  }
  return Math.round(total);
}

/** `2` or `"2"` (cores), `"0.5"`, `"250m"` (millicores) → millicores. */
export function parseCpu(input: number | string): number {
  const text = String(input).trim();
  const milli = /^(\d+(?:\.\d+)?)m$/.exec(text);
  const value = milli ? Number(milli[1]) : /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new UnitError(`"${input}" is not a CPU quantity (use cores like 2 or 0.5, or millicores like "250m")`);
  }
  return Math.round(value);
}

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

/** `1048576`, `"64Mi"`, `"1G"`, `"512Ki"` → bytes. */
export function parseMemory(input: number | string): number {
  const match = /^(\d+(?:\.\d+)?)([kKMGT]i?)?$/.exec(String(input).trim());
  const factor = match ? MEMORY_UNITS[match[2] ?? ""] : undefined;
  if (!match || factor === undefined) {
    throw new UnitError(`"${input}" is not a memory quantity (use bytes or a number with Ki, Mi, Gi, Ti, K, M, G or T, e.g. "256Mi")`);
  }
  return Math.round(Number(match[1]) * factor);
}

/** A count or a share of a total, as used by max_surge and max_unavailable. */
export type CountOrPercent = { percent: number } | { count: number };

/** `"25%"` → `{percent: 25}`; `2` → `{count: 2}`. */
export function parseCountOrPercent(input: number | string): CountOrPercent {
  if (typeof input === "number" && Number.isInteger(input) && input >= 0) return { count: input };
  const match = /^(\d+(?:\.\d+)?)%$/.exec(String(input).trim());
  if (match && Number(match[1]) <= 100) return { percent: Number(match[1]) };
  if (typeof input === "string" && /^\d+$/.test(input.trim())) return { count: Number(input) };
  throw new UnitError(`"${input}" is not a count or a percentage (use an integer like 1 or a string like "25%")`);
}

/** Inverse of {@link parseDuration} for display: 1500 → "1.5s", 300000 → "5m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}

/** Bytes for display: 67108864 → "64Mi". */
export function formatBytes(bytes: number): string {
  const units = ["", "Ki", "Mi", "Gi", "Ti"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${+value.toFixed(unit === 0 ? 0 : 1)}${units[unit]}`;
}
