/**
 * The health of one replica from its probes (DESIGN.md 5): the startup probe gates the other
 * two; liveness decides whether the replica is alive; readiness whether it takes traffic. With
 * no readiness probe a replica is ready once its first port accepts a connection (or at once
 * when it has no ports).
 */
import { httpGet } from "./http.js";
import { describeAction, type ProbeCheck } from "./probe.js";
import { ProbeRunner } from "./probe-runner.js";
import { tcpProbe } from "./tcp.js";
import type { HealthDefinition, HealthVerdict, ProbeAction, ProbeDefinition, ProbeKind, ProbeOutcome, ProbeReport } from "../../contract/index.js";


export interface HealthContext {
  /** The replica's ports by name, at `host`. */
  ports: Record<string, number>;
  /** Where the ports are (default 127.0.0.1; a container's own address for containers). */
  host?: string;
  startedAt: number;
  /** Runs an exec probe inside the replica's environment (its runtime knows how). */
  exec(command: string[], timeoutMs: number): Promise<ProbeOutcome>;
  /** Calls back once `port` accepts connections; returns a cancel function. */
  whenListening(port: number, host: string, onListening: () => void): () => void;
  /** Called whenever the verdict or a probe's state changes. */
  onChange(): void;
}

export class ReplicaHealth {
  private readonly runners = new Map<ProbeKind, ProbeRunner>();
  private cancelListen: (() => void) | undefined;
  private portReady = false;
  private failing: HealthVerdict["failing"] = null;
  private started = false;
  private closed = false;

  constructor(
    private readonly definition: HealthDefinition,
    private readonly context: HealthContext,
  ) {}

  /**
   * Starts probing. An adopted replica (one a previous drover started) that had passed its
   * startup probe does not repeat it, and one that was ready stays ready until probes disagree.
   */
  start(adopted?: { startupPassed: boolean; ready: boolean }): void {
    const startup = this.definition.startup;
    if (adopted?.startupPassed) {
      this.startMain(adopted.ready);
    } else if (startup) {
      this.run("startup", startup, (runner) => {
        if (runner.verdict === "passing") {
          runner.stop();
          this.startMain(false);
        } else if (runner.verdict === "failing") {
          runner.stop();
          this.failing = { probe: "startup", message: failureMessage(runner) };
        }
        this.context.onChange();
      });
    } else {
      this.startMain(false);
    }
  }

  verdict(): HealthVerdict {
    const readiness = this.runners.get("readiness");
    const ready = this.started && this.failing?.probe !== "startup" && (readiness ? readiness.verdict === "passing" : this.portReady);
    return { ready, failing: this.failing };
  }

  reports(): ProbeReport[] {
    return (["startup", "liveness", "readiness"] as const).flatMap((kind) => this.runners.get(kind)?.report() ?? []);
  }

  close(): void {
    this.closed = true;
    for (const runner of this.runners.values()) runner.stop();
    this.cancelListen?.();
  }

  private startMain(assumeReady: boolean): void {
    if (this.closed) return;
    this.started = true;
    const { liveness, readiness } = this.definition;
    if (liveness) {
      this.run("liveness", liveness, (runner) => {
        this.failing = runner.verdict === "failing" ? { probe: "liveness", message: failureMessage(runner) } : null;
        this.context.onChange();
      });
    }
    if (readiness) {
      this.run("readiness", readiness, () => this.context.onChange(), assumeReady);
      return;
    }
    const first = Object.values(this.context.ports)[0];
    if (first === undefined || assumeReady) {
      this.portReady = true;
      return;
    }
    this.cancelListen = this.context.whenListening(first, this.context.host ?? "127.0.0.1", () => {
      this.portReady = true;
      this.context.onChange();
    });
  }

  private run(kind: ProbeKind, definition: ProbeDefinition, onVerdict: (runner: ProbeRunner) => void, assumePassing = false): void {
    const port = "port" in definition.action ? this.resolvePort(definition.action.port) : undefined;
    const runner = new ProbeRunner(kind, describeAction(definition.action, port, this.context.host), definition, this.check(definition, port), onVerdict);
    this.runners.set(kind, runner);
    runner.start(this.context.startedAt + definition.initialDelayMs, assumePassing ? "passing" : undefined);
  }

  private check(definition: ProbeDefinition, port: number | undefined): ProbeCheck {
    const action: ProbeAction = definition.action;
    const timeout = definition.timeoutMs;
    switch (action.type) {
      case "http":
        return () => httpGet({ host: this.context.host, port: port!, path: action.path, scheme: action.scheme, headers: action.headers }, timeout);
      case "tcp":
        return () => tcpProbe(port!, timeout, this.context.host);
      case "exec":
        return () => this.context.exec(action.command, timeout);
    }
  }

  /** A name is the replica's port of that name; the server turned declared port numbers into names already. */
  private resolvePort(ref: string | number): number {
    return typeof ref === "number" ? ref : (this.context.ports[ref] ?? 0);
  }
}

function failureMessage(runner: ProbeRunner): string {
  const report = runner.report();
  const times = report.consecutiveFailures === 1 ? "once" : `${report.consecutiveFailures} times in a row`;
  return `${runner.kind} probe failed ${times} (${report.target}: ${report.last?.message ?? "no result"})`;
}
