/** Jobs with their runs (a run by hand for operators), databases with their backups, and volumes with their node, use and users. */
import { useEffect, useState } from "preact/hooks";
import type { DatabaseView, JobRun, JobView, VolumeView } from "../contract/index.js";
import { api } from "./api.js";
import { DatabaseTable } from "./databases.js";
import { age, bytes } from "./format.js";

export function WorkloadsPage(props: { tick: number; canAct: boolean }) {
  const [jobs, setJobs] = useState<JobView[] | null>(null);
  const [volumes, setVolumes] = useState<VolumeView[] | null>(null);
  const [databases, setDatabases] = useState<DatabaseView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([api.get<{ jobs: JobView[] }>("/api/v1/jobs"), api.get<{ volumes: VolumeView[] }>("/api/v1/volumes"), api.get<{ databases: DatabaseView[] }>("/api/v1/databases")]).then(
      ([j, v, d]) => (setJobs(j.jobs), setVolumes(v.volumes), setDatabases(d.databases), setError(null)),
      (e: Error) => setError(e.message),
    );
  }, [props.tick]);

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!jobs || !volumes || !databases) return <p aria-busy="true">Loading…</p>;
  return (
    <>
      <h1>Jobs, databases and volumes</h1>
      <section aria-labelledby="jobs-heading">
        <h2 id="jobs-heading">Jobs</h2>
        {jobs.length === 0 ? <p class="muted">No jobs: apply a kind: Job or kind: CronJob descriptor.</p> : jobs.map((job) => <JobArticle key={job.name} job={job} tick={props.tick} canAct={props.canAct} />)}
      </section>
      <section aria-labelledby="databases-heading">
        <h2 id="databases-heading">Databases</h2>
        <DatabaseTable databases={databases} />
      </section>
      <section aria-labelledby="volumes-heading">
        <h2 id="volumes-heading">Volumes</h2>
        {volumes.length === 0 ? (
          <p class="muted">No volumes.</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Volume</th>
                  <th scope="col">Node</th>
                  <th scope="col">Size</th>
                  <th scope="col">Used</th>
                  <th scope="col">Used by</th>
                  <th scope="col">Age</th>
                </tr>
              </thead>
              <tbody>
                {volumes.map((v) => (
                  <tr key={v.key} data-testid={`volume-${v.key}`}>
                    <th scope="row">{v.key}</th>
                    <td>{v.node}</td>
                    <td>{v.size === null ? "–" : bytes(v.size)}</td>
                    <td class={v.size !== null && v.usedBytes !== null && v.usedBytes > v.size ? "error" : undefined}>{v.usedBytes === null ? "?" : bytes(v.usedBytes)}</td>
                    <td>{v.usedBy.join(", ") || <span class="muted">unused</span>}</td>
                    <td>{age(v.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function JobArticle(props: { job: JobView; tick: number; canAct: boolean }) {
  const { job } = props;
  const [runs, setRuns] = useState<JobRun[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ runs: JobRun[] }>(`/api/v1/jobs/${encodeURIComponent(job.name)}/runs?limit=10`).then((answer) => setRuns(answer.runs), () => undefined);
  }, [props.tick, job.name]);
  const runNow = () =>
    api.post<{ run: JobRun }>(`/api/v1/jobs/${encodeURIComponent(job.name)}/runs`).then(
      (answer) => setMessage(`Run ${answer.run.number} started.`),
      (e: Error) => setMessage(e.message),
    );
  return (
    <article data-job={job.name}>
      <h3>
        {job.name} <span class="muted">{job.kind}{job.schedule ? ` · ${job.schedule}${job.timeZone ? ` (${job.timeZone})` : ""}` : ""}{job.suspended ? " · suspended" : ""}</span>
      </h3>
      <p>
        {job.lastRun ? (
          <>
            Last run #{job.lastRun.number}: <span class={`status status-${job.lastRun.state}`}>{job.lastRun.state}</span> {age(job.lastRun.finishedAt ?? job.lastRun.startedAt)} ago
          </>
        ) : (
          "No run yet"
        )}
        {job.nextRunAt ? ` · next ${new Date(job.nextRunAt).toLocaleTimeString()}` : ""}
        {job.kind === "CronJob" ? ` · ${job.status.skipped} skipped, ${job.status.missed} missed` : ""}
      </p>
      {props.canAct && (
        <p>
          <button type="button" onClick={runNow}>
            Run now
          </button>{" "}
          <span role="status">{message}</span>
        </p>
      )}
      {runs.length > 0 && (
        <div class="scroll">
          <table>
            <caption class="sr-only">Runs of {job.name}</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Trigger</th>
                <th scope="col">State</th>
                <th scope="col">Attempts ok/failed</th>
                <th scope="col">Took</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.number} data-testid={`run-${job.name}-${r.number}`}>
                  <th scope="row">#{r.number}</th>
                  <td>{r.trigger.replace("_", "-")}</td>
                  <td>
                    <span class={`status status-${r.state}`}>{r.state}</span>
                  </td>
                  <td>
                    {r.succeeded}/{r.failed}
                  </td>
                  <td>{r.startedAt ? `${(((r.finishedAt ?? Date.now()) - r.startedAt) / 1000).toFixed(1)}s` : "–"}</td>
                  <td>{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}
