/** The machine drover runs on: version, store, disk, runtimes, router, energy. */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { bytes, percent, watts } from "./format.js";
import { Gauge, type TopView } from "./overview.js";

interface Info {
  version: string;
  uptimeSeconds: number;
  storeLatencyMs: number;
  storeWritable: boolean;
  filesystem: { sizeBytes: number; freeBytes: number } | null;
  energySource: string;
  agent: { node: string; runtimes: string[]; details: string[] };
}

export function HostPage(props: { tick: number }) {
  const [info, setInfo] = useState<Info | null>(null);
  const [top, setTop] = useState<TopView | null>(null);
  useEffect(() => {
    api.get<Info>("/api/v1/info").then(setInfo, () => undefined);
    api.get<TopView>("/api/v1/top").then(setTop, () => undefined);
  }, [props.tick]);
  if (!info || !top) return <p aria-busy="true">Loading…</p>;
  const used = info.filesystem ? 1 - info.filesystem.freeBytes / info.filesystem.sizeBytes : null;
  return (
    <>
      <h1>Host</h1>
      <section class="gauges" aria-label="Gauges">
        <Gauge label="CPU" value={top.host.utilisation} text={percent(top.host.utilisation)} />
        <Gauge label="Disk used" value={used} text={info.filesystem ? `${bytes(info.filesystem.freeBytes)} free` : "–"} />
        <div class="gauge"><span class="label">Power ({info.energySource})</span><strong>{watts(top.host.watts)}</strong></div>
      </section>
      <dl class="facts">
        <dt>drover</dt><dd>{info.version}, up {Math.round(info.uptimeSeconds / 60)} min</dd>
        <dt>Store</dt><dd>{info.storeWritable ? "takes writes" : "not writable"} ({info.storeLatencyMs} ms)</dd>
        <dt>Node</dt><dd>{info.agent.node}: {info.agent.runtimes.join(", ")}</dd>
        {info.agent.details.map((d, i) => [<dt key={`t${i}`}>·</dt>, <dd key={`d${i}`}>{d}</dd>])}
      </dl>
    </>
  );
}
