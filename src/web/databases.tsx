/** Managed databases: whether each answers, its sizes, its volume and its backups (size, age, result). */
import { useEffect, useState } from "preact/hooks";
import { lastRunFailed, type DatabaseView } from "../contract/index.js";
import { api } from "./api.js";
import { age, bytes, ms } from "./format.js";

export function DatabaseTable(props: { databases: DatabaseView[] }) {
  if (props.databases.length === 0) return <p class="muted">No databases: apply a kind: Database descriptor.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Database</th>
            <th scope="col">State</th>
            <th scope="col">Port</th>
            <th scope="col">Sizes</th>
            <th scope="col">Volume</th>
            <th scope="col">Last backup</th>
          </tr>
        </thead>
        <tbody>
          {props.databases.map((d) => (
            <tr key={d.name} data-testid={`database-${d.name}`}>
              <th scope="row">
                <a href={`#/service/${encodeURIComponent(d.name)}`}>{d.name}</a>
              </th>
              <td>
                <Health database={d} />
              </td>
              <td>{d.port}</td>
              <td>{d.databases.map((x) => `${x.name} ${bytes(x.bytes)}`).join(", ")}</td>
              <td>{volume(d)}</td>
              <td>
                <LastBackup database={d} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The database section of a service page: shown only when the service is a database's. */
export function DatabasePanel(props: { service: string; tick: number }) {
  const [database, setDatabase] = useState<DatabaseView | null>(null);
  const [isDatabase, setIsDatabase] = useState(true);
  useEffect(() => setIsDatabase(true), [props.service]);
  useEffect(() => {
    if (!isDatabase) return;
    // A 404 says the service is not a database's: no more asking on later ticks.
    api.get<DatabaseView>(`/api/v1/databases/${encodeURIComponent(props.service)}`).then(setDatabase, () => (setIsDatabase(false), setDatabase(null)));
  }, [props.service, props.tick, isDatabase]);
  if (!database) return null;
  return (
    <section aria-labelledby="database-title" data-testid="database-panel">
      <h2 id="database-title">Database</h2>
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <Health database={database} />
        </dd>
        <dt>Databases</dt>
        <dd>{database.databases.map((x) => `${x.name} (${x.owner}) ${bytes(x.bytes)}`).join(", ")}</dd>
        <dt>Volume</dt>
        <dd>{volume(database)}{database.node ? ` on ${database.node}` : ""}</dd>
        <dt>Backups</dt>
        <dd>
          <LastBackup database={database} />
          {database.backups.schedule ? ` · schedule ${database.backups.schedule}${database.backups.count === null ? "" : ` · ${database.backups.count} kept`}` : ""}
        </dd>
      </dl>
    </section>
  );
}

function Health(props: { database: DatabaseView }) {
  const d = props.database;
  if (d.reachable) return <span class={`status status-${d.ready ? "ready" : "unready"}`}>{d.ready ? "answers" : "answers, not ready"} · {d.serverVersion} · {ms(d.latencyMs)}</span>;
  return <span class="status status-down">unreachable: {d.reachError}</span>;
}

function LastBackup(props: { database: DatabaseView }) {
  const { backups } = props.database;
  if (!backups.schedule) return <span class="muted">no backups set</span>;
  const latest = !backups.here
    ? `${backups.lastSuccessAt ? `${age(backups.lastSuccessAt)} ago` : "none yet"}, kept on node ${backups.node}`
    : backups.latest
      ? `${age(backups.latest.at)} ago, ${bytes(backups.latest.bytes)}`
      : "none yet";
  if (lastRunFailed(backups))
    return (
      <span class="status status-failed" role="alert">
        failed {age(backups.lastFailureAt)} ago: {backups.lastFailure ?? "see the job's runs"} (last good: {latest})
      </span>
    );
  return <span class="status status-succeeded">{latest}</span>;
}

function volume(d: DatabaseView): string {
  return d.usedBytes === null ? "?" : `${bytes(d.usedBytes)}${d.sizeBytes ? ` of ${bytes(d.sizeBytes)}` : ""}`;
}
