import { test } from "node:test";
import assert from "node:assert/strict";
import { dailyLoad } from "../../../test/fixtures/daily-load.js";
import { fitHoltWinters, forecast, mape, observe } from "./holt-winters.js";

test("on a daily-seasonal series, Holt-Winters forecasts 10 minutes ahead far better than the last value", () => {
  const series = dailyLoad(8);
  const train = series.slice(0, 7 * 1440);
  let model = fitHoltWinters(train, 1440)!;
  assert.ok(model, "two whole periods are enough to fit");
  const horizon = 10;
  const actual: number[] = [];
  const seasonal: number[] = [];
  const lastValue: number[] = [];
  for (let t = train.length; t + horizon < series.length; t++) {
    // At minute t (t observations seen): predict minute t - 1 + horizon.
    actual.push(series[t - 1 + horizon]!);
    seasonal.push(forecast(model, horizon));
    lastValue.push(series[t - 1]!);
    model = observe(model, series[t]!);
  }
  const hw = mape(actual, seasonal);
  const naive = mape(actual, lastValue);
  process.stdout.write(`# 10-minute-ahead MAPE over day 8: Holt-Winters ${hw.toFixed(2)}%, last value ${naive.toFixed(2)}% (factors α ${model.alpha}, β ${model.beta}, γ ${model.gamma})\n`);
  assert.ok(hw < naive * 0.75, `Holt-Winters ${hw.toFixed(2)}% must beat last value ${naive.toFixed(2)}% by at least a quarter`);
});

test("less than two whole periods: no model", () => {
  assert.equal(fitHoltWinters(dailyLoad(1), 1440), null);
});

test("MAPE skips zeros and is a percentage", () => {
  assert.ok(Math.abs(mape([100, 0, 50], [110, 5, 40]) - 15) < 1e-9);
});
