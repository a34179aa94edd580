/** A small time-series chart (uPlot), sized to its container, labelled for screen readers. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export function Chart(props: { title: string; unit: string; times: number[]; values: Array<number | null> }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const width = box.current.clientWidth || 320;
    // A canvas does not read CSS variables: the theme's colours are looked up once.
    const css = getComputedStyle(document.documentElement);
    const accent = css.getPropertyValue("--accent").trim() || "#1457c2";
    const muted = css.getPropertyValue("--muted").trim() || "#545b66";
    const options: uPlot.Options = {
      width,
      height: 160,
      legend: { show: false },
      axes: [{ stroke: muted }, { stroke: muted, size: 60 }],
      series: [{}, { label: props.title, stroke: accent, width: 2, fill: `${accent}26` }],
    };
    plot.current = new uPlot(options, [props.times.map((t) => t / 1000), props.values], box.current);
    const resize = () => plot.current?.setSize({ width: box.current?.clientWidth || width, height: 160 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([props.times.map((t) => t / 1000), props.values]);
  }, [props.times, props.values]);
  const latest = [...props.values].reverse().find((v) => v !== null);
  return (
    <figure class="chart">
      <figcaption>
        {props.title} <span class="muted">{latest === undefined || latest === null ? "no data yet" : `now ${latest.toFixed(2)} ${props.unit}`}</span>
      </figcaption>
      <div ref={box} role="img" aria-label={`${props.title} over time, latest ${latest ?? "none"} ${props.unit}`} />
    </figure>
  );
}
