/** Jobs and cron jobs: list, runs and their logs (viewer); a manual run and removal (operator). Jobs themselves come with `drover apply`. */
import type { FastifyInstance } from "fastify";
import type { JobRecord } from "../contract/index.js";
import { BadRequestError, NotFoundError } from "../errors.js";
import type { ControlPlane } from "../server/control-plane.js";
import { jobView } from "../server/jobs/jobs.js";

export function registerJobRoutes(app: FastifyInstance, controlPlane: ControlPlane): void {
  const { jobs } = controlPlane;
  const find = async (name: string): Promise<JobRecord> => {
    const job = await jobs.find(name);
    if (!job) throw new NotFoundError(`no job or cron job named "${name}"`);
    return job;
  };

  app.get("/api/v1/jobs", async () => ({ jobs: await jobs.views() }));

  app.get<{ Params: { name: string } }>("/api/v1/jobs/:name", async (request) => {
    const job = await find(request.params.name);
    return { job: jobView(job, await jobs.runs(job.name), Date.now()), descriptor: job.descriptor };
  });

  app.get<{ Params: { name: string }; Querystring: { limit?: string } }>("/api/v1/jobs/:name/runs", async (request) => {
    const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new BadRequestError("expected a whole number above 0", "limit");
    const job = await find(request.params.name);
    return { runs: await jobs.runs(job.name, limit) };
  });

  /** One run's attempts with their output: kept with the run once ended, read from the agent while running. */
  app.get<{ Params: { name: string; run: string } }>("/api/v1/jobs/:name/runs/:run/logs", async (request) => {
    const job = await find(request.params.name);
    const number = Number(request.params.run);
    if (!Number.isInteger(number) || number < 1) throw new BadRequestError("expected a run number", "run");
    const run = await controlPlane.store.getRun(job.name, number);
    if (!run) throw new NotFoundError(`${job.name} has no run ${number} (finished runs are kept as its history and ttl_after_finished say)`);
    const attempts = await Promise.all(
      run.attempts.map(async (a) => ({ id: a.id, state: a.state, message: a.message, lines: a.state === "running" ? await controlPlane.agent.tailLogs(a.id, 200).catch(() => []) : a.log })),
    );
    return { run: run.number, state: run.state, attempts };
  });

  app.post<{ Params: { name: string } }>("/api/v1/jobs/:name/runs", async (request) => {
    const job = await find(request.params.name);
    if (job.deleting) throw new BadRequestError(`${job.name} is being removed`);
    const run = await jobs.runNow(job, request.actor?.name ?? "a user");
    request.audit = { object: `job ${job.name}`, summary: `run ${run.number}` };
    return { run };
  });

  app.delete<{ Params: { name: string } }>("/api/v1/jobs/:name", async (request) => {
    const job = await find(request.params.name);
    await jobs.markDeleting(job);
    request.audit = { object: `job ${job.name}`, summary: "remove" };
    return { job: job.name, deleting: true };
  });
}
