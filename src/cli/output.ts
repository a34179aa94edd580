/** Terminal output: tables, colours (only on a TTY, and never with NO_COLOR), durations, a spinner. */
import { stringify } from "yaml";
import { formatBytes } from "../spec/units.js";

const useColor = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const color = { red: paint(31), green: paint(32), yellow: paint(33), cyan: paint(36), dim: paint(2), bold: paint(1) };

export function statusColor(status: string): string {
  const word = status.split(",")[0]!;
  if (word === "ready") return color.green(status);
  if (["crash_loop", "failed", "exited", "image_unavailable", "runtime_unavailable", "lost", "down", "unschedulable"].includes(word)) return color.red(status);
  if (["progressing", "waiting", "starting", "running", "pending", "unready", "not_ready", "initializing"].includes(word)) return color.yellow(status);
  return status;
}

/** Column widths ignore colour escape codes. */
export function table(headers: string[], rows: string[][]): string {
  // eslint-disable-next-line no-control-regex -- colour escapes are exactly what must be skipped
  const visible = (s: string) => s.replace(/\u001b\[\d+m/g, "").length;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ""))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - visible(c)))).join("   ").trimEnd();
  return [line(headers.map((h) => color.bold(h))), ...rows.map(line)].join("\n");
}

export function age(since: number | null, now = Date.now()): string {
  if (since === null) return "-";
  const s = Math.max(0, Math.round((now - since) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

export function memory(bytes: number | undefined): string {
  return bytes === undefined ? "-" : formatBytes(bytes);
}

/** Prints data as JSON or YAML when -o asks for it; returns false for the table format. */
export function printStructured(format: string | undefined, data: unknown): boolean {
  if (format === "json") process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (format === "yaml") process.stdout.write(stringify(data));
  else return false;
  return true;
}

/** A spinner on a TTY; plain lines, only when the text changes, elsewhere. */
export function progress(): { update(text: string): void; done(text?: string): void } {
  if (!process.stderr.isTTY) {
    let last = "";
    return {
      update(text) {
        if (text !== last) process.stderr.write(`${text}\n`);
        last = text;
      },
      done(text) {
        if (text) process.stderr.write(`${text}\n`);
      },
    };
  }
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let frame = 0;
  let current = "";
  const draw = () => process.stderr.write(`\r\u001b[2K${color.cyan(frames[frame++ % frames.length]!)} ${current}`);
  const timer = setInterval(draw, 80);
  return {
    update(text) {
      current = text;
      draw();
    },
    done(text) {
      clearInterval(timer);
      process.stderr.write("\r\u001b[2K");
      if (text) process.stderr.write(`${text}\n`);
    },
  };
}
