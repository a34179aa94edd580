/**
 * Notices when ports start listening. One read of /proc/net/tcp and tcp6 every tick serves every
 * replica waiting to become ready, instead of a connect attempt per replica per tick: at start-up
 * of a hundred replicas that is the difference between a few reads and thousands of connects a
 * second. Where /proc/net is unreadable it falls back to connect attempts.
 */
import fs from "node:fs";
import { tcpConnects } from "./tcp.js";

const TABLES = ["/proc/net/tcp", "/proc/net/tcp6"];
/** A socket in state 0A (LISTEN); the group is the local port. One regex over the file is cheap. */
const LISTEN_LINE = /^\s*\d+: [0-9A-F]+:([0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} 0A /gm;
const TICK_MS = 20;
const FALLBACK_MAX_MS = 250;

export class ListenWatcher {
  private readonly waiting = new Map<number, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly procAvailable = TABLES.some((table) => fs.existsSync(table));

  /** Calls `onListening` once `port` accepts connections on 127.0.0.1; returns a cancel function. */
  wait(port: number, onListening: () => void): () => void {
    if (!this.procAvailable) return pollByConnecting(port, onListening);
    let cancelled = false;
    const callback = () => {
      // LISTEN in the table; one real connection confirms it is reachable on loopback.
      void tcpConnects(port, 1000).then((ok) => {
        if (cancelled) return;
        if (ok) onListening();
        else cancel = pollByConnecting(port, onListening);
      });
    };
    const set = this.waiting.get(port) ?? new Set();
    set.add(callback);
    this.waiting.set(port, set);
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
    let cancel = () => {
      cancelled = true;
      this.drop(port, callback);
    };
    return () => cancel();
  }

  private drop(port: number, callback: () => void): void {
    const set = this.waiting.get(port);
    set?.delete(callback);
    if (set?.size === 0) this.waiting.delete(port);
    if (this.waiting.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const listening = listeningPorts();
    for (const [port, callbacks] of [...this.waiting]) {
      if (!listening.has(port)) continue;
      for (const callback of [...callbacks]) {
        this.drop(port, callback);
        callback();
      }
    }
  }
}

/** Ports in LISTEN state in this network namespace. */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const table of TABLES) {
    let text: string;
    try {
      text = fs.readFileSync(table, "latin1");
    } catch {
      continue;
    }
    // Each line: "sl: local_address rem_address st ..."; addresses are HEXIP:HEXPORT.
    for (const match of text.matchAll(LISTEN_LINE)) ports.add(parseInt(match[1]!, 16));
  }
  return ports;
}

function pollByConnecting(port: number, onListening: () => void): () => void {
  let stopped = false;
  let delay = 10;
  const check = async () => {
    if (stopped) return;
    if (await tcpConnects(port, 1000)) {
      if (!stopped) onListening();
      return;
    }
    delay = Math.min(delay * 1.5, FALLBACK_MAX_MS);
    setTimeout(check, delay).unref();
  };
  setTimeout(check, delay).unref();
  return () => {
    stopped = true;
  };
}
