/**
 * The Prometheus text exposition format (version 0.0.4), written directly: drover's metrics are
 * read at scrape time from what it already holds (store, agent, router), and histograms come
 * ready-bucketed from the router, which a client library's instruments cannot take.
 */

export type Labels = Record<string, string | number>;

export interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: Array<{ labels: Labels; value: number; suffix?: string }>;
}

export function render(families: Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) lines.push(`${family.name}${sample.suffix ?? ""}${labelText(sample.labels)} ${formatValue(sample.value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Cumulative `_bucket`, `_sum` and `_count` samples from per-bucket counts (upper bounds in the histogram's unit). */
export function histogramSamples(labels: Labels, bounds: number[], counts: number[], sum: number): Family["samples"] {
  const samples: Family["samples"] = [];
  let cumulative = 0;
  bounds.forEach((bound, i) => {
    cumulative += counts[i] ?? 0;
    samples.push({ labels: { ...labels, le: bound }, value: cumulative, suffix: "_bucket" });
  });
  cumulative += counts[bounds.length] ?? 0;
  samples.push({ labels: { ...labels, le: "+Inf" }, value: cumulative, suffix: "_bucket" });
  samples.push({ labels, value: sum, suffix: "_sum" });
  samples.push({ labels, value: cumulative, suffix: "_count" });
  return samples;
}
