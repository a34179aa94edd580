/**
 * Predictive scaling for one service: a seasonal model of its per-minute load (requests per
 * second, or CPU cores where it scales on CPU) forecasts the load at now + lead time, and the
 * replicas that load needs become the floor — so replicas are ready before a predictable peak
 * instead of being started once it has arrived.
 */
import type { MetricPoint } from "../../contract/index.js";
import { fitHoltWinters, forecast, observe, type HoltWintersModel } from "./holt-winters.js";
import type { ForecastFloor } from "./service-scaler.js";
import type { ScalingSettings } from "./settings.js";

const MINUTE_MS = 60_000;
/** The factors are chosen again this often; in between, each new minute updates the model. */
const REFIT_MS = 3_600_000;

export interface ForecastStatus {
  metric: "rps" | "cpu" | null;
  /** Minutes of history, and how many a model needs (two seasons). */
  minutes: number;
  needed: number;
  model: Pick<HoltWintersModel, "alpha" | "beta" | "gamma" | "meanAbsoluteError"> | null;
}

/** History kept for refits: two weeks of minutes. */
const MAX_MINUTES = 14 * 1440;

export class LoadForecaster {
  private model: HoltWintersModel | null = null;
  private fittedAt = -Infinity;
  /** The per-minute load seen so far (gaps repeat the previous value), the newest last. */
  private series: number[] = [];
  private lastMinute = 0;

  constructor(private readonly settings: ScalingSettings) {}

  /** The load the floor follows: requests where the service scales on them, else CPU. */
  get metric(): "rps" | "cpu" | null {
    return this.settings.targets.rps !== undefined ? "rps" : this.settings.targets.cpu !== undefined ? "cpu" : null;
  }

  /** Takes per-minute points (oldest first; those seen already are skipped); refits hourly, else updates the model with each new minute. */
  update(now: number, points: MetricPoint[]): void {
    const metric = this.metric;
    if (!metric || !this.settings.predictive) return;
    for (const point of points) {
      const minute = Math.floor(point.at / MINUTE_MS) * MINUTE_MS;
      if (this.series.length > 0 && minute <= this.lastMinute) continue;
      // Minutes without a point (drover was down) repeat the last value seen.
      if (this.series.length > 0) for (let gap = this.lastMinute + MINUTE_MS; gap < minute; gap += MINUTE_MS) this.add(this.series[this.series.length - 1]!);
      this.add(load(point, metric));
      this.lastMinute = minute;
    }
    if (this.series.length > MAX_MINUTES) this.series = this.series.slice(-MAX_MINUTES);
    if (!this.model || now - this.fittedAt >= REFIT_MS) {
      this.model = fitHoltWinters(this.series, this.period());
      this.fittedAt = now;
    }
  }

  /** The floor for now + lead time; null without a model. */
  floor(now: number, leadTimeMs: number): ForecastFloor | null {
    const metric = this.metric;
    if (!this.model || !metric) return null;
    const steps = Math.max(1, Math.ceil((now + leadTimeMs - this.lastMinute) / MINUTE_MS));
    const predicted = Math.max(0, forecast(this.model, steps));
    const perReplica = metric === "rps" ? this.settings.targets.rps! : (this.settings.cpuBaseCores * this.settings.targets.cpu!) / 100;
    return { replicas: Math.ceil(predicted / perReplica), load: predicted, metric, leadTimeMs };
  }

  status(): ForecastStatus {
    const model = this.model && { alpha: this.model.alpha, beta: this.model.beta, gamma: this.model.gamma, meanAbsoluteError: this.model.meanAbsoluteError };
    return { metric: this.metric, minutes: this.series.length, needed: 2 * this.period(), model };
  }

  private add(value: number): void {
    this.series.push(value);
    // Between refits the model follows each minute as it comes.
    if (this.model) this.model = observe(this.model, value);
  }

  private period(): number {
    return this.settings.predictive ? Math.round(this.settings.predictive.seasonMs / MINUTE_MS) : 0;
  }
}

function load(point: MetricPoint, metric: "rps" | "cpu"): number {
  return metric === "rps" ? point.requestsPerSecond : point.cpuCores;
}
