/** One service: replicas, rollout, revisions with diffs and rollback, charts, logs, events — and the actions a role allows. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { MetricPoint } from "../contract/index.js";
import { api, servicePath, token, type StreamedEvent } from "./api.js";
import { Chart } from "./chart.js";
import { DatabasePanel } from "./databases.js";
import { age, bytes, time } from "./format.js";
import type { ServiceSummary } from "./overview.js";

interface Replica {
  id: string;
  revision: number;
  state: string;
  pid: number | null;
  ports: Record<string, number>;
  restarts: number;
  startedAt: number | null;
  reason: string;
  usage: { cpuSeconds: number; memoryBytes: number } | null;
  probes: Array<{ kind: string; state: string; target: string; last: { message: string; latencyMs: number } | null }>;
}
interface Revision {
  number: number;
  descriptor: { metadata: { version?: string } };
  author: string;
  message: string;
  createdAt: number;
}
interface Rollout {
  rollout: { state: string; strategy: string; step: number; fromRevision: number; toRevision: number; reason: string | null; analysis: unknown } | null;
  weights: Record<string, number> | null;
  steps: Array<{ weight: number; pause: number }>;
  replicas: { to: { total: number; ready: number }; from: { total: number; ready: number } };
}
type Point = MetricPoint;

const RANGES = [
  { label: "15 minutes", since: "15m", step: "5s" },
  { label: "1 hour", since: "1h", step: "30s" },
  { label: "1 day", since: "24h", step: "10m" },
];

export function ServicePage(props: { name: string; tick: number; canAct: boolean; events: StreamedEvent[] }) {
  const path = servicePath(props.name);
  const [data, setData] = useState<{ service: ServiceSummary; replicas: Replica[]; events: StreamedEvent[] } | null>(null);
  const [revisions, setRevisions] = useState<Revision[]>([]);
  const [rollout, setRollout] = useState<Rollout | null>(null);
  const [range, setRange] = useState(0);
  const [points, setPoints] = useState<Point[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([api.get<typeof data>(path), api.get<{ revisions: Revision[] }>(`${path}/revisions`), api.get<Rollout>(`${path}/rollout`)]).then(([d, r, ro]) => {
      setData(d);
      setRevisions(r.revisions);
      setRollout(ro);
      setError(null);
    }, (e: Error) => setError(e.message));
  }, [path, props.tick]);
  useEffect(() => {
    const { since, step } = RANGES[range]!;
    api.get<{ points: Point[] }>(`${path}/metrics?since=${since}&step=${step}`).then((m) => setPoints(m.points), () => undefined);
  }, [path, props.tick, range]);

  const act = async (what: string, run: () => Promise<unknown>) => {
    if (!confirm(`${what}?`)) return;
    try {
      await run();
      setNotice(`${what}: done`);
    } catch (e) {
      setNotice(`${what}: ${(e as Error).message}`);
    }
  };

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!data) return <p aria-busy="true">Loading…</p>;
  const { service, replicas } = data;
  const times = points.map((p) => p.at);
  const live = props.events.filter((e) => e.service === service.name);
  const shownEvents = [...live, ...data.events.slice().reverse()].filter((e, i, all) => all.findIndex((x) => x.id === e.id) === i).slice(0, 30);
  return (
    <>
      <h1>{service.name}</h1>
      <p>
        <span class={`status status-${service.status}`}>{service.status}</span> <span data-testid="service-ready">{service.ready}/{service.desired}</span> ready · revision {service.revision} · restarts {service.restarts}
      </p>
      {service.problem && <p class="error">{service.problem}</p>}
      {notice && <p role="status" class="notice">{notice}</p>}
      {props.canAct && (
        <section aria-label="Actions" class="actions">
          <ScaleForm current={service.desired} onScale={(n) => act(`Scale ${service.name} to ${n}`, () => api.post(`${path}/scale`, { replicas: n }))} />
          <button type="button" onClick={() => act(`Restart ${service.name}`, () => api.post(`${path}/restart`))}>Restart</button>
          {service.status === "stopped" ? (
            <button type="button" onClick={() => act(`Start ${service.name}`, () => api.post(`${path}/start`))}>Start</button>
          ) : (
            <button type="button" onClick={() => act(`Stop ${service.name}`, () => api.post(`${path}/stop`))}>Stop</button>
          )}
        </section>
      )}

      <DatabasePanel service={service.name} tick={props.tick} />

      <section aria-labelledby="replicas-title">
        <h2 id="replicas-title">Replicas</h2>
        <div class="scroll">
          <table>
            <thead>
              <tr><th scope="col">Replica</th><th scope="col">Rev</th><th scope="col">State</th><th scope="col">Restarts</th><th scope="col">Port</th><th scope="col">Up</th><th scope="col">Memory</th><th scope="col">Probes</th></tr>
            </thead>
            <tbody>
              {replicas.map((r) => (
                <tr key={r.id}>
                  <td>{r.id}</td>
                  <td>{r.revision}</td>
                  <td><span class={`status status-${r.state}`}>{r.state}</span></td>
                  <td>{r.restarts}</td>
                  <td>{Object.values(r.ports).join(", ") || "–"}</td>
                  <td>{age(r.startedAt)}</td>
                  <td>{bytes(r.usage?.memoryBytes)}</td>
                  <td>{r.probes.map((p) => `${p.kind} ${p.state}${p.last ? ` (${p.last.message}, ${p.last.latencyMs} ms)` : ""}`).join("; ") || "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {rollout?.rollout && (
        <section aria-labelledby="rollout-title">
          <h2 id="rollout-title">Rollout</h2>
          <p>
            {rollout.rollout.strategy} {rollout.rollout.fromRevision} → {rollout.rollout.toRevision}: <strong>{rollout.rollout.state}</strong>
            {rollout.steps.length > 0 && ` · step ${rollout.rollout.step + 1} of ${rollout.steps.length}`}
            {rollout.weights && ` · weights ${Object.entries(rollout.weights).map(([rev, w]) => `r${rev} ${w}%`).join(", ")}`}
            {` · new ${rollout.replicas.to.ready}/${rollout.replicas.to.total} ready, old ${rollout.replicas.from.ready}/${rollout.replicas.from.total}`}
          </p>
          {rollout.rollout.reason && <p class="muted">{rollout.rollout.reason}</p>}
          {rollout.rollout.analysis !== null && rollout.rollout.analysis !== undefined && <pre class="small">{JSON.stringify(rollout.rollout.analysis, null, 2)}</pre>}
          {props.canAct && ["progressing", "paused"].includes(rollout.rollout.state) && (
            <div class="actions">
              <button type="button" onClick={() => act("Promote the rollout", () => api.post(`${path}/rollout/promote`))}>Promote</button>
              <button type="button" onClick={() => act("Abort the rollout", () => api.post(`${path}/rollout/abort`))}>Abort</button>
            </div>
          )}
        </section>
      )}

      <section aria-labelledby="charts-title">
        <h2 id="charts-title">Metrics</h2>
        <label>
          Range{" "}
          <select value={range} onChange={(e) => setRange(Number((e.target as HTMLSelectElement).value))}>
            {RANGES.map((r, i) => <option value={i} key={r.label}>{r.label}</option>)}
          </select>
        </label>
        <div class="charts">
          <Chart title="Requests" unit="req/s" times={times} values={points.map((p) => p.requestsPerSecond)} />
          <Chart title="p95 latency" unit="ms" times={times} values={points.map((p) => p.p95Ms)} />
          <Chart title="Errors" unit="share" times={times} values={points.map((p) => p.errorRate)} />
          <Chart title="CPU" unit="cores" times={times} values={points.map((p) => p.cpuCores)} />
          <Chart title="Memory" unit="MiB" times={times} values={points.map((p) => p.memoryBytes / 1048576)} />
          <Chart title="Power" unit="W" times={times} values={points.map((p) => p.watts)} />
        </div>
      </section>

      <Revisions path={path} revisions={revisions} current={service.revision} canAct={props.canAct} onRollback={(to) => act(`Roll ${service.name} back to revision ${to}`, () => api.post(`${path}/rollback`, { to, author: "dashboard" }))} />
      <Logs path={path} />

      <section aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        <ul class="events" aria-live="polite">
          {shownEvents.map((e) => (
            <li key={e.id} data-event={e.type}><time>{time(e.time)}</time> <strong>{e.type}</strong> {e.replica ?? ""} {e.reason}: {e.message}</li>
          ))}
        </ul>
      </section>
    </>
  );
}

function ScaleForm(props: { current: number; onScale: (n: number) => void }) {
  const [value, setValue] = useState(String(props.current));
  useEffect(() => setValue(String(props.current)), [props.current]);
  return (
    <form class="inline" onSubmit={(e) => (e.preventDefault(), props.onScale(Number(value)))}>
      <label for="replicas">Desired replicas</label>
      <input id="replicas" type="number" min={0} max={1000} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit">Scale</button>
    </form>
  );
}

function Revisions(props: { path: string; revisions: Revision[]; current: number; canAct: boolean; onRollback: (to: number) => void }) {
  const [diff, setDiff] = useState<{ from: number; to: number; changes: Array<{ path: string; before?: unknown; after?: unknown }> } | null>(null);
  const show = (from: number, to: number) => api.get<NonNullable<typeof diff>>(`${props.path}/diff?from=${from}&to=${to}`).then(setDiff, () => undefined);
  return (
    <section aria-labelledby="revisions-title">
      <h2 id="revisions-title">Revisions</h2>
      <div class="scroll">
        <table>
          <thead><tr><th scope="col">Rev</th><th scope="col">Version</th><th scope="col">Author</th><th scope="col">Age</th><th scope="col">Note</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {[...props.revisions].reverse().map((r) => (
              <tr key={r.number}>
                <td>{r.number}{r.number === props.current ? " (current)" : ""}</td>
                <td>{r.descriptor.metadata.version ?? "–"}</td>
                <td>{r.author}</td>
                <td>{age(r.createdAt)}</td>
                <td>{r.message}</td>
                <td class="row-actions">
                  {r.number !== props.current && <button type="button" onClick={() => show(r.number, props.current)}>Diff with current</button>}
                  {props.canAct && r.number !== props.current && <button type="button" onClick={() => props.onRollback(r.number)}>Roll back to {r.number}</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {diff && (
        <div class="diff" role="region" aria-label={`Changes from revision ${diff.from} to ${diff.to}`}>
          <h3>Revision {diff.from} → {diff.to}</h3>
          {diff.changes.length === 0 ? <p>No change in the spec.</p> : (
            <ul>
              {diff.changes.map((c) => (
                <li key={c.path}><code>{c.path}</code>: <del>{JSON.stringify(c.before) ?? "–"}</del> → <ins>{JSON.stringify(c.after) ?? "–"}</ins></li>
              ))}
            </ul>
          )}
          <button type="button" onClick={() => setDiff(null)}>Close</button>
        </div>
      )}
    </section>
  );
}

function Logs(props: { path: string }) {
  const [text, setText] = useState("");
  const [follow, setFollow] = useState(false);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const abort = new AbortController();
    void (async () => {
      const response = await fetch(`${props.path}/logs?tail=200${follow ? "&follow=1" : ""}`, { headers: { authorization: `Bearer ${token()}` }, signal: abort.signal }).catch(() => null);
      if (!response?.ok || !response.body) return;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let all = "";
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        all = (all + decoder.decode(value, { stream: true })).split("\n").slice(-500).join("\n");
        setText(all);
        if (box.current) box.current.scrollTop = box.current.scrollHeight;
      }
    })();
    return () => abort.abort();
  }, [props.path, follow]);
  return (
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Logs</h2>
      <label><input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow</label>
      <pre class="logs" ref={box} tabIndex={0} aria-label="Replica output">{text || "no output yet"}</pre>
    </section>
  );
}
