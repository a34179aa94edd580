/** Node pools under the nodes: each pool's size, machine and problem, and every instance with its lifecycle history. */
import { useEffect, useState } from "preact/hooks";
import type { PoolView } from "../contract/index.js";
import { api } from "./api.js";
import { bytes } from "./format.js";

export function PoolsSection(props: { tick: number }) {
  const [pools, setPools] = useState<PoolView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ pools: PoolView[] }>("/api/v1/pools").then((answer) => (setPools(answer.pools), setError(null)), (e: Error) => setError(e.message));
  }, [props.tick]);

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!pools || pools.length === 0) return null;
  return (
    <section aria-labelledby="pools-heading">
      <h2 id="pools-heading">Node pools</h2>
      {pools.map((pool) => (
        <article key={pool.name} data-pool={pool.name}>
          <h3>
            {pool.name} <span class="muted">{pool.provider} · {pool.machine ? `${pool.machine.name}: ${pool.machine.cpu}m CPU, ${bytes(pool.machine.memory)}${pool.machine.gpus ? `, ${pool.machine.gpus} GPU` : ""}` : pool.machineName}</span>
          </h3>
          <p>
            {pool.min} ≤ <strong data-testid={`pool-${pool.name}-desired`}>{pool.desired}</strong> ≤ {pool.max} nodes ·{" "}
            {pool.autoscale ? `autoscaled by ${pool.optimize}${pool.consolidation ? ", consolidating" : ""}` : "sized by hand"}
          </p>
          {pool.deleting && <p class="muted">Being removed: its nodes are drained and terminated, then the pool goes.</p>}
          {pool.problem && (
            <p role="alert" class="error">
              {pool.problem}
            </p>
          )}
          <div class="scroll">
            <table>
              <caption class="sr-only">Instances of pool {pool.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">State</th>
                  <th scope="col">Address</th>
                  <th scope="col">Node</th>
                  <th scope="col">Replicas</th>
                  <th scope="col">History</th>
                </tr>
              </thead>
              <tbody>
                {pool.instances.map((i) => (
                  <tr key={i.id} data-testid={`instance-${i.id}`}>
                    <th scope="row">{i.id}</th>
                    <td>
                      <span class={`status status-${i.state}`}>{i.state}</span>
                      <div class="muted">{i.stateReason}</div>
                    </td>
                    <td>{i.address ?? "–"}</td>
                    <td>{i.nodeState?.replace("_", " ") ?? "–"}</td>
                    <td>{i.replicas}</td>
                    <td>
                      <details>
                        <summary>{i.history.length} steps</summary>
                        <ol class="history">
                          {i.history.map((t) => (
                            <li key={t.id}>
                              <time dateTime={new Date(t.at).toISOString()}>{new Date(t.at).toLocaleTimeString()}</time> {t.from ?? "–"} → <strong>{t.to}</strong>: {t.reason}
                            </li>
                          ))}
                        </ol>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </article>
      ))}
    </section>
  );
}
