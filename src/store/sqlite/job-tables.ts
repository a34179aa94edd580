/** The job tables of the SQLite store: jobs and cron jobs, and their runs (attempts inside each run's document). */
import type Database from "better-sqlite3";
import { EMPTY_JOB_STATUS, type EventInput, type JobRecord, type JobRun, type JobStatus } from "../../contract/index.js";
import type { ApplyBatch } from "../store.js";
import { toJob, toRun, type Row } from "../rows.js";

export class SqliteJobTables {
  constructor(
    private readonly db: Database.Database,
    private readonly statement: (sql: string) => Database.Statement,
  ) {}

  /** Within the apply's transaction: a new or changed job gets a new version; the same one again stops a removal under way. */
  apply(job: NonNullable<ApplyBatch["jobs"]>[number], now: number): EventInput | null {
    const existing = this.statement("SELECT version, hash FROM jobs WHERE name = ?").get(job.name) as Row | undefined;
    if (existing?.hash === job.hash) {
      this.statement("UPDATE jobs SET deleting = 0 WHERE name = ? AND deleting = 1").run(job.name);
      return null;
    }
    const version = existing ? Number(existing.version) + 1 : 1;
    if (existing) this.statement("UPDATE jobs SET kind = ?, document = ?, hash = ?, version = ?, deleting = 0, updated_at = ? WHERE name = ?").run(job.descriptor.kind, JSON.stringify(job.descriptor), job.hash, version, now, job.name);
    else this.statement("INSERT INTO jobs (name, kind, document, hash, version, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(job.name, job.descriptor.kind, JSON.stringify(job.descriptor), job.hash, version, JSON.stringify(EMPTY_JOB_STATUS), now, now);
    return { type: "JobApplied", service: job.name, replica: null, reason: existing ? "Changed" : "Created", message: `${job.descriptor.kind} ${job.name} version ${version}` };
  }

  list(): JobRecord[] {
    return (this.statement("SELECT * FROM jobs ORDER BY name").all() as Row[]).map(toJob);
  }

  get(name: string): JobRecord | undefined {
    const row = this.statement("SELECT * FROM jobs WHERE name = ?").get(name) as Row | undefined;
    return row && toJob(row);
  }

  update(name: string, patch: { status?: JobStatus; deleting?: boolean }): void {
    if (patch.status) this.statement("UPDATE jobs SET status = ? WHERE name = ?").run(JSON.stringify(patch.status), name);
    if (patch.deleting !== undefined) this.statement("UPDATE jobs SET deleting = ? WHERE name = ?").run(patch.deleting ? 1 : 0, name);
  }

  delete(name: string): void {
    this.db.transaction(() => {
      this.statement("DELETE FROM job_runs WHERE job = ?").run(name);
      this.statement("DELETE FROM jobs WHERE name = ?").run(name);
    })();
  }

  listRuns(job: string, limit?: number): JobRun[] {
    return (this.statement("SELECT document FROM job_runs WHERE job = ? ORDER BY number DESC LIMIT ?").all(job, limit ?? -1) as Row[]).map(toRun);
  }

  getRun(job: string, number: number): JobRun | undefined {
    const row = this.statement("SELECT document FROM job_runs WHERE job = ? AND number = ?").get(job, number) as Row | undefined;
    return row && toRun(row);
  }

  insertRun(run: JobRun): boolean {
    return this.statement("INSERT INTO job_runs (job, number, state, document) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING").run(run.job, run.number, run.state, JSON.stringify(run)).changes > 0;
  }

  putRun(run: JobRun): void {
    this.statement("INSERT OR REPLACE INTO job_runs (job, number, state, document) VALUES (?, ?, ?, ?)").run(run.job, run.number, run.state, JSON.stringify(run));
  }

  deleteRun(job: string, number: number): void {
    this.statement("DELETE FROM job_runs WHERE job = ? AND number = ?").run(job, number);
  }
}
