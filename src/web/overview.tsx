/** Every service as a card, and the host's gauges. */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { bytes, cores, ms, percent, rps, watts } from "./format.js";

export interface ServiceSummary {
  name: string;
  revision: number;
  desired: number;
  ready: number;
  status: string;
  restarts: number;
  ports: Array<{ name: string; port: number }>;
  problem: string | null;
  waitingFor: string[];
}

export interface TopView {
  energySource: "rapl" | "model";
  host: { utilisation: number | null; watts: number };
  services: Array<{ name: string; ready: number; desired: number; point: { cpuCores: number; memoryBytes: number; watts: number; requestsPerSecond: number; errorRate: number | null; p95Ms: number | null } | null }>;
}

export function Overview(props: { tick: number }) {
  const [services, setServices] = useState<ServiceSummary[] | null>(null);
  const [top, setTop] = useState<TopView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([api.get<{ services: ServiceSummary[] }>("/api/v1/services"), api.get<TopView>("/api/v1/top")]).then(([s, t]) => {
      // From the data's arrival to the frame that shows it: what bench/dashboard reports.
      const started = performance.now();
      setServices(s.services);
      setTop(t);
      setError(null);
      requestAnimationFrame(() => document.body.setAttribute("data-overview-rendered-ms", String(Math.round(performance.now() - started))));
    }, (e: Error) => setError(e.message));
  }, [props.tick]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!services || !top) return <p aria-busy="true">Loading…</p>;
  const figures = new Map(top.services.map((s) => [s.name, s.point]));
  return (
    <>
      <section aria-label="Host" class="gauges">
        <Gauge label="Host CPU" value={top.host.utilisation} text={percent(top.host.utilisation)} />
        <div class="gauge">
          <span class="label">Power ({top.energySource === "rapl" ? "measured" : "estimated"})</span>
          <strong>{watts(top.host.watts)}</strong>
        </div>
        <div class="gauge">
          <span class="label">Services</span>
          <strong>
            {services.filter((s) => s.status === "ready").length}/{services.length} ready
          </strong>
        </div>
      </section>
      <h1>Services</h1>
      {services.length === 0 && <p>No service yet: <code>drover apply -f FILE</code>.</p>}
      <ul class="cards" aria-label="Services">
        {services.map((s) => {
          const p = figures.get(s.name);
          return (
            <li class="card" key={s.name} data-service={s.name}>
              <h2>
                <a href={`#/service/${encodeURIComponent(s.name)}`}>{s.name}</a>
              </h2>
              <p>
                <span class={`status status-${s.status}`}>{s.status}</span> <span data-testid="ready">{s.ready}/{s.desired}</span> ready · rev {s.revision}
              </p>
              {s.problem && <p class="error">{s.problem}</p>}
              <dl>
                <dt>CPU</dt>
                <dd>{cores(p?.cpuCores)}</dd>
                <dt>Memory</dt>
                <dd>{bytes(p?.memoryBytes)}</dd>
                <dt>Power</dt>
                <dd>{watts(p?.watts)}</dd>
                <dt>Requests</dt>
                <dd>{rps(p?.requestsPerSecond)}</dd>
                <dt>Errors</dt>
                <dd>{percent(p?.errorRate)}</dd>
                <dt>p95</dt>
                <dd>{ms(p?.p95Ms)}</dd>
              </dl>
            </li>
          );
        })}
      </ul>
    </>
  );
}

export function Gauge(props: { label: string; value: number | null; text: string }) {
  // An id with a space would be two ids to aria-labelledby.
  const id = `gauge-${props.label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <div class="gauge">
      <span class="label" id={id}>{props.label}</span>
      <meter aria-labelledby={id} min={0} max={1} low={0.7} high={0.9} optimum={0.2} value={props.value ?? 0} />
      <strong>{props.text}</strong>
    </div>
  );
}
