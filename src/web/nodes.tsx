/** The nodes: state, heartbeat, capacity and use, power, replicas; cordon, uncordon and drain for operators; the node pools below. */
import { useEffect, useState } from "preact/hooks";
import type { NodeView } from "../contract/index.js";
import { api } from "./api.js";
import { bytes, percent, watts } from "./format.js";
import { PoolsSection } from "./pools.js";

export function NodesPage(props: { tick: number; canAct: boolean }) {
  const [nodes, setNodes] = useState<NodeView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ nodes: NodeView[] }>("/api/v1/nodes").then((answer) => (setNodes(answer.nodes), setError(null)), (e: Error) => setError(e.message));
  }, [props.tick]);

  const act = async (node: string, action: "cordon" | "uncordon" | "drain") => {
    if (!confirm(`${action} node ${node}?`)) return;
    try {
      const { node: updated } = await api.post<{ node: NodeView }>(`/api/v1/nodes/${encodeURIComponent(node)}/${action}`);
      setNodes((list) => list && list.map((n) => (n.name === node ? updated : n)));
      setNotice(`${action} ${node}: done`);
    } catch (e) {
      setNotice(`${action} ${node}: ${(e as Error).message}`);
    }
  };

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!nodes) return <p aria-busy="true">Loading…</p>;
  return (
    <>
      <h1>Nodes</h1>
      <p class="muted">
        {nodes.length} node{nodes.length === 1 ? "" : "s"}, {nodes.filter((n) => n.state === "ready").length} ready. Add one with <code>drover node join-token</code>.
      </p>
      <p role="status" aria-live="polite">{notice}</p>
      <div class="scroll">
        <table>
          <caption class="sr-only">Nodes</caption>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              <th scope="col">Heartbeat</th>
              <th scope="col">Replicas</th>
              <th scope="col">CPU requested</th>
              <th scope="col">Memory requested</th>
              <th scope="col">CPU use</th>
              <th scope="col">Power</th>
              <th scope="col">Labels</th>
              {props.canAct && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.name} data-testid={`node-${n.name}`}>
                <th scope="row">
                  {n.name}
                  <div class="muted">{n.address}</div>
                </th>
                <td>
                  <span class={`status status-${n.state}`}>{n.state.replace("_", " ")}</span>
                  {n.draining ? " · draining" : n.cordoned ? " · cordoned" : ""}
                  <div class="muted">{n.stateReason}</div>
                </td>
                <td>{n.heartbeatAgeMs === null ? "never" : `${(n.heartbeatAgeMs / 1000).toFixed(1)} s ago`}</td>
                <td>{n.replicas}</td>
                <td>
                  {n.requested.cpuMillis}m / {n.allocatable.cpuMillis}m
                </td>
                <td>
                  {bytes(n.requested.memoryBytes)} / {bytes(n.allocatable.memoryBytes)}
                </td>
                <td>{percent(n.utilisation)}</td>
                <td>
                  {watts(n.watts)} <span class="muted">{n.energy.source}</span>
                </td>
                <td>{Object.entries(n.labels).filter(([k]) => !k.startsWith("drover.dev/")).map(([k, v]) => `${k}=${v}`).join(", ") || "–"}</td>
                {props.canAct && (
                  <td>
                    {n.cordoned || n.draining ? (
                      <button type="button" onClick={() => void act(n.name, "uncordon")}>Uncordon</button>
                    ) : (
                      <>
                        <button type="button" onClick={() => void act(n.name, "cordon")}>Cordon</button> <button type="button" onClick={() => void act(n.name, "drain")}>Drain</button>
                      </>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <PoolsSection tick={props.tick} />
    </>
  );
}
