/**
 * Replica log files. The replica writes straight to its file (O_APPEND) so logging survives a
 * drover restart; rotation therefore copies then truncates (the workload keeps its descriptor),
 * as logrotate's copytruncate does. Lines written between the copy and the truncate can be lost.
 */
import fs from "node:fs";

export const LOG_MAX_BYTES = Number(process.env.DROVER_LOG_MAX_BYTES ?? 10 * 1024 * 1024);
export const LOG_KEEP = 3;

export function rotateIfLarge(file: string, maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP): boolean {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  for (let i = keep - 1; i >= 1; i--) {
    if (fs.existsSync(`${file}.${i}`)) fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  }
  fs.copyFileSync(file, `${file}.1`);
  fs.truncateSync(file, 0);
  return true;
}

/** The last `lines` lines of a log, reaching into the newest rotated file when needed. */
export function tailLines(file: string, lines: number): string[] {
  const result: string[] = [];
  for (const candidate of [file, `${file}.1`]) {
    if (result.length >= lines) break;
    const text = readEnd(candidate, Math.max(64 * 1024, lines * 512));
    const found = text.split("\n");
    if (found.at(-1) === "") found.pop();
    result.unshift(...found.slice(-(lines - result.length)));
  }
  return result.slice(-lines);
}

function readEnd(file: string, bytes: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString("utf8");
    // drop a partial first line when we did not start at the beginning of the file
    return length < size ? text.slice(text.indexOf("\n") + 1) : text;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Calls `onData` with what is appended to `file` from now on, until the returned function is
 * called. Polls the size (file watchers miss writes on some filesystems) and starts over when
 * the file shrinks (it was rotated).
 */
export function followFile(file: string, onData: (text: string) => void, intervalMs = 200): () => void {
  let offset = safeSize(file);
  const timer = setInterval(() => {
    const size = safeSize(file);
    if (size < offset) offset = 0;
    if (size === offset) return;
    const fd = fs.openSync(file, "r");
    try {
      const buffer = Buffer.alloc(size - offset);
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      offset = size;
      onData(buffer.toString("utf8"));
    } finally {
      fs.closeSync(fd);
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
