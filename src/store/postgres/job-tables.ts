/** The job tables of the PostgreSQL store: jobs and cron jobs, and their runs (attempts inside each run's document). */
import { EMPTY_JOB_STATUS, type EventInput, type JobRecord, type JobRun, type JobStatus } from "../../contract/index.js";
import type { ApplyBatch } from "../store.js";
import { toJob, toRun, type Row } from "../rows.js";

type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;
type Transaction = <T>(work: () => Promise<T>) => Promise<T>;

export class PostgresJobTables {
  constructor(
    private readonly query: Query,
    private readonly tx: Transaction,
  ) {}

  /** Within the apply's transaction: a new or changed job gets a new version; the same one again stops a removal under way. */
  async apply(job: NonNullable<ApplyBatch["jobs"]>[number], now: number): Promise<EventInput | null> {
    const [existing] = await this.query("SELECT version, hash FROM jobs WHERE name = $1", [job.name]);
    if (existing?.hash === job.hash) {
      await this.query("UPDATE jobs SET deleting = 0 WHERE name = $1 AND deleting = 1", [job.name]);
      return null;
    }
    const version = existing ? Number(existing.version) + 1 : 1;
    await this.query(
      `INSERT INTO jobs (name, kind, document, hash, version, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
       ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, document = EXCLUDED.document, hash = EXCLUDED.hash, version = EXCLUDED.version, deleting = 0, updated_at = EXCLUDED.updated_at`,
      [job.name, job.descriptor.kind, JSON.stringify(job.descriptor), job.hash, version, JSON.stringify(EMPTY_JOB_STATUS), now],
    );
    return { type: "JobApplied", service: job.name, replica: null, reason: existing ? "Changed" : "Created", message: `${job.descriptor.kind} ${job.name} version ${version}` };
  }

  async list(): Promise<JobRecord[]> {
    return (await this.query("SELECT * FROM jobs ORDER BY name")).map(toJob);
  }

  async get(name: string): Promise<JobRecord | undefined> {
    const [row] = await this.query("SELECT * FROM jobs WHERE name = $1", [name]);
    return row && toJob(row);
  }

  async update(name: string, patch: { status?: JobStatus; deleting?: boolean }): Promise<void> {
    if (patch.status) await this.query("UPDATE jobs SET status = $1 WHERE name = $2", [JSON.stringify(patch.status), name]);
    if (patch.deleting !== undefined) await this.query("UPDATE jobs SET deleting = $1 WHERE name = $2", [patch.deleting ? 1 : 0, name]);
  }

  async delete(name: string): Promise<void> {
    await this.tx(async () => {
      await this.query("DELETE FROM job_runs WHERE job = $1", [name]);
      await this.query("DELETE FROM jobs WHERE name = $1", [name]);
    });
  }

  async listRuns(job: string, limit?: number): Promise<JobRun[]> {
    return (await this.query("SELECT document FROM job_runs WHERE job = $1 ORDER BY number DESC LIMIT $2", [job, limit ?? null])).map(toRun);
  }

  async getRun(job: string, number: number): Promise<JobRun | undefined> {
    const [row] = await this.query("SELECT document FROM job_runs WHERE job = $1 AND number = $2", [job, number]);
    return row && toRun(row);
  }

  async insertRun(run: JobRun): Promise<boolean> {
    const rows = await this.query("INSERT INTO job_runs (job, number, state, document) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING number", [run.job, run.number, run.state, JSON.stringify(run)]);
    return rows.length > 0;
  }

  async putRun(run: JobRun): Promise<void> {
    await this.query(
      `INSERT INTO job_runs (job, number, state, document) VALUES ($1, $2, $3, $4)
       ON CONFLICT (job, number) DO UPDATE SET state = EXCLUDED.state, document = EXCLUDED.document`,
      [run.job, run.number, run.state, JSON.stringify(run)],
    );
  }

  async deleteRun(job: string, number: number): Promise<void> {
    await this.query("DELETE FROM job_runs WHERE job = $1 AND number = $2", [job, number]);
  }
}
