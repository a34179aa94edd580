/** Numbers as people read them. */
export const percent = (share: number | null | undefined) => (share === null || share === undefined ? "–" : `${(share * 100).toFixed(1)}%`);
export const cores = (n: number | null | undefined) => (n === null || n === undefined ? "–" : `${(n * 100).toFixed(1)}% CPU`);
export const watts = (n: number | null | undefined) => (n === null || n === undefined ? "–" : `${n.toFixed(2)} W`);
export const ms = (n: number | null | undefined) => (n === null || n === undefined ? "–" : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`);
export const rps = (n: number | null | undefined) => (n === null || n === undefined ? "–" : `${n < 10 ? n.toFixed(1) : Math.round(n)} req/s`);

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function age(since: number | null | undefined, now = Date.now()): string {
  if (!since) return "–";
  const seconds = Math.max(0, Math.round((now - since) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export function time(at: number): string {
  return new Date(at).toLocaleTimeString();
}
