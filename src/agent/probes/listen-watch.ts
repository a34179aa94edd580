/**
 * Notices when ports start listening, for the readiness rule without a probe.
 *
 * Each waiting port is tried with a connect, often at first and less often as time passes: a
 * refused connect on loopback costs tens of microseconds, so a replica that starts in 30ms is seen
 * within a few milliseconds of its listen(), and a hundred replicas starting at once cost a few
 * thousand connects spread over their start-up. (Reading /proc/net/tcp instead looks cheaper but
 * is not: the kernel walks its whole connection hash table for every read, ~5ms per file here.)
 */
import fs from "node:fs";
import { tcpConnects } from "./tcp.js";

const TABLES = ["/proc/net/tcp", "/proc/net/tcp6"];
/** A socket in state 0A (LISTEN); the group is the local port. One regex over the file is cheap. */
const LISTEN_LINE = /^\s*\d+: [0-9A-F]+:([0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} 0A /gm;
/** The wait between attempts grows with the time already waited: 1ms at first, at most 50ms. */
const FIRST_INTERVAL_MS = 1;
const INTERVAL_GROWTH = 1 / 8;
const MAX_INTERVAL_MS = 50;

/** Calls `onListening` once `port` accepts connections on `host`; returns a cancel function. */
export function whenListening(port: number, host: string, onListening: () => void): () => void {
  let stopped = false;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const attempt = async () => {
    if (stopped) return;
    if (await tcpConnects(port, 1000, host)) {
      if (!stopped) onListening();
      return;
    }
    if (stopped) return;
    const waited = performance.now() - started;
    timer = setTimeout(attempt, Math.min(FIRST_INTERVAL_MS + waited * INTERVAL_GROWTH, MAX_INTERVAL_MS)).unref();
  };
  void attempt();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Ports in LISTEN state in this network namespace (one-off use: each call costs milliseconds). */
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
