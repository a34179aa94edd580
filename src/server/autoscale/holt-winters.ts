/**
 * Additive Holt-Winters (triple exponential smoothing): level, trend and a seasonal component of
 * a fixed period, for per-minute load with a daily (or weekly) rhythm. The smoothing factors are
 * chosen by a small grid search minimising the one-step-ahead squared error over the history,
 * so nothing needs tuning per service.
 */
import { mean } from "../../stats.js";

export interface HoltWintersModel {
  alpha: number;
  beta: number;
  gamma: number;
  period: number;
  level: number;
  trend: number;
  /** Seasonal offsets, indexed by position in the period of the next observation onwards (see forecast). */
  seasonals: number[];
  /** Observations the model has seen. */
  length: number;
  /** Mean absolute one-step error over the history (in the series' unit). */
  meanAbsoluteError: number;
}

const ALPHAS = [0.05, 0.2, 0.5, 0.8];
const BETAS = [0, 0.01, 0.1];
const GAMMAS = [0.05, 0.2, 0.5, 0.8];

/** Null with fewer than two whole periods: a season cannot be told from noise with less. */
export function fitHoltWinters(series: number[], period: number): HoltWintersModel | null {
  if (period < 2 || series.length < 2 * period) return null;
  let best: HoltWintersModel | null = null;
  let bestError = Infinity;
  for (const alpha of ALPHAS) {
    for (const beta of BETAS) {
      for (const gamma of GAMMAS) {
        const model = run(series, period, alpha, beta, gamma);
        if (model.meanAbsoluteError < bestError) {
          bestError = model.meanAbsoluteError;
          best = model;
        }
      }
    }
  }
  return best;
}

/** The value `steps` observations after the last one seen (steps ≥ 1). */
export function forecast(model: HoltWintersModel, steps: number): number {
  const season = model.seasonals[(model.length + steps - 1) % model.period]!;
  return model.level + steps * model.trend + season;
}

/** The model after one more observation, its factors unchanged (no refit). */
export function observe(model: HoltWintersModel, value: number): HoltWintersModel {
  const slot = model.length % model.period;
  const seasonals = model.seasonals.slice();
  const level = model.alpha * (value - seasonals[slot]!) + (1 - model.alpha) * (model.level + model.trend);
  const trend = model.beta * (level - model.level) + (1 - model.beta) * model.trend;
  seasonals[slot] = model.gamma * (value - level) + (1 - model.gamma) * seasonals[slot]!;
  return { ...model, level, trend, seasonals, length: model.length + 1 };
}

function run(series: number[], period: number, alpha: number, beta: number, gamma: number): HoltWintersModel {
  const first = mean(series.slice(0, period));
  const second = mean(series.slice(period, 2 * period));
  let level = first;
  let trend = (second - first) / period;
  const seasonals = series.slice(0, period).map((v) => v - first);
  let absoluteError = 0;
  let predictions = 0;
  for (let t = period; t < series.length; t++) {
    const value = series[t]!;
    const slot = t % period;
    const predicted = level + trend + seasonals[slot]!;
    absoluteError += Math.abs(value - predicted);
    predictions++;
    const previousLevel = level;
    level = alpha * (value - seasonals[slot]!) + (1 - alpha) * (level + trend);
    trend = beta * (level - previousLevel) + (1 - beta) * trend;
    seasonals[slot] = gamma * (value - level) + (1 - gamma) * seasonals[slot]!;
  }
  return { alpha, beta, gamma, period, level, trend, seasonals, length: series.length, meanAbsoluteError: absoluteError / Math.max(1, predictions) };
}


/** Mean absolute percentage error of predictions against actual values (actual zeros skipped). */
export function mape(actual: number[], predicted: number[]): number {
  let sum = 0;
  let count = 0;
  actual.forEach((a, i) => {
    if (a === 0) return;
    sum += Math.abs((a - predicted[i]!) / a);
    count++;
  });
  return count ? (100 * sum) / count : 0;
}
