/** Events (live) and, for admins, the audit trail — with filters. */
import { useEffect, useState } from "preact/hooks";
import type { AuditRecord } from "../contract/index.js";
import { api, type StreamedEvent } from "./api.js";
import { time } from "./format.js";

type AuditEntry = AuditRecord;

export function EventsPage(props: { live: StreamedEvent[]; admin: boolean }) {
  const [past, setPast] = useState<StreamedEvent[]>([]);
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [filter, setFilter] = useState("");
  useEffect(() => {
    api.get<{ events: StreamedEvent[] }>("/api/v1/events?limit=500").then((r) => setPast(r.events.slice().reverse()), () => undefined);
    if (props.admin) api.get<{ entries: AuditEntry[] }>("/api/v1/audit").then((r) => setAudit(r.entries.slice().reverse()), () => undefined);
  }, [props.admin]);
  const needle = filter.toLowerCase();
  const events = [...props.live, ...past].filter((e, i, all) => all.findIndex((x) => x.id === e.id) === i).filter((e) => !needle || `${e.type} ${e.service} ${e.replica} ${e.reason} ${e.message}`.toLowerCase().includes(needle));
  const entries = audit.filter((a) => !needle || `${a.actor} ${a.action} ${a.object} ${a.summary}`.toLowerCase().includes(needle));
  return (
    <>
      <h1>Events{props.admin ? " and audit" : ""}</h1>
      <label>
        Filter <input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder="service, type, text" />
      </label>
      <section aria-labelledby="ev-title">
        <h2 id="ev-title">Events</h2>
        <ul class="events" aria-live="polite" data-testid="event-feed">
          {events.slice(0, 300).map((e) => (
            <li key={e.id} data-event={e.type}><time>{time(e.time)}</time> <strong>{e.type}</strong> {e.service ?? ""} {e.replica ?? ""} {e.reason}: {e.message}</li>
          ))}
        </ul>
      </section>
      {props.admin && (
        <section aria-labelledby="audit-title">
          <h2 id="audit-title">Audit trail</h2>
          <div class="scroll">
            <table>
              <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Summary</th></tr></thead>
              <tbody>
                {entries.slice(0, 300).map((a) => (
                  <tr key={a.seq}><td>{a.seq}</td><td>{time(a.time)}</td><td>{a.actor} ({a.role})</td><td>{a.action}</td><td>{a.object}</td><td>{a.summary}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}
