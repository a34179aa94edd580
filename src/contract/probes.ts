/** Probes as the server hands them to an agent, and the verdicts an agent reports back. */

/** The result of one probe run. */
export interface ProbeOutcome {
  ok: boolean;
  /** What was seen, in words: "HTTP 200", "connection refused", "exit code 1: <output>". */
  message: string;
  latencyMs: number;
}

export type ProbeKind = "startup" | "liveness" | "readiness";

/** A probe as the server hands it to the agent; a port is a name (the replica's port of that name) or a number. */
export type ProbeAction =
  | { type: "http"; port: string | number; path: string; scheme: "http" | "https"; headers: Record<string, string> }
  | { type: "tcp"; port: string | number }
  | { type: "exec"; command: string[] };

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

export type ProbeDefinition = ProbeTiming & { action: ProbeAction };

export type HealthDefinition = Partial<Record<ProbeKind, ProbeDefinition>>;

/** One probe's verdict and its latest run, as `drover describe` shows it. */
export interface ProbeReport {
  kind: ProbeKind;
  /** `pending`: not enough results yet for a verdict. */
  state: "pending" | "passing" | "failing";
  consecutiveSuccesses: number;
  consecutiveFailures: number;
  last: (ProbeOutcome & { at: number }) | null;
  /** What the probe does, e.g. "GET http://127.0.0.1:20001/health". */
  target: string;
}
