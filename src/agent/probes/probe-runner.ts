/**
 * Runs one probe on its period and turns results into a verdict with its thresholds.
 *
 * Runs are pinned to a fixed grid (first run + k × period), so the schedule does not drift by
 * the time each run takes; a run that overlaps the next slot makes that slot be skipped, never
 * queued, so a slow replica gets one probe in flight at most and no burst when it recovers.
 */
import type { ProbeCheck } from "./probe.js";
import type { ProbeKind, ProbeReport, ProbeTiming } from "../../contract/index.js";

export class ProbeRunner {
  private state: ProbeReport["state"] = "pending";
  private successes = 0;
  private failures = 0;
  private last: ProbeReport["last"] = null;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;
  private stopped = false;

  constructor(
    readonly kind: ProbeKind,
    private readonly target: string,
    private readonly timing: ProbeTiming,
    private readonly check: ProbeCheck,
    /** Called when the verdict changes (not on every run). */
    private readonly onVerdict: (runner: ProbeRunner) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Schedules the first run at `firstAt` (the replica's start plus the initial delay, or now).
   * `assumed` carries a verdict over from before a drover restart, so an adopted replica that
   * was ready does not leave the router until a probe says so.
   */
  start(firstAt: number, assumed?: "passing"): void {
    if (assumed) this.state = assumed;
    this.nextAt = Math.max(firstAt, this.now());
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  get verdict(): ProbeReport["state"] {
    return this.state;
  }

  report(): ProbeReport {
    return { kind: this.kind, state: this.state, consecutiveSuccesses: this.successes, consecutiveFailures: this.failures, last: this.last, target: this.target };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), Math.max(0, this.nextAt - this.now()));
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const at = this.now();
    const outcome = await this.check();
    if (this.stopped) return;
    this.last = { ...outcome, at };
    if (outcome.ok) {
      this.successes++;
      this.failures = 0;
    } else {
      this.failures++;
      this.successes = 0;
    }
    const verdict =
      this.successes >= this.timing.successThreshold ? "passing" : this.failures >= this.timing.failureThreshold ? "failing" : this.state;
    const changed = verdict !== this.state;
    this.state = verdict;
    // The next slot on the grid that is still ahead: slots missed while this run lasted are skipped.
    const period = this.timing.periodMs;
    const now = this.now();
    this.nextAt += period;
    if (this.nextAt <= now) this.nextAt += Math.ceil((now - this.nextAt + 1) / period) * period;
    this.schedule();
    if (changed) this.onVerdict(this);
  }
}
