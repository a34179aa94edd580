/**
 * `kind: Job` (a workload run to completion: `completions` successful attempts, `parallelism` at
 * a time, up to `backoff_limit` failed ones) and `kind: CronJob` (a Job started on a cron
 * schedule). The workload fields are the service's own — runtime, command, image, resources,
 * configuration, security, stop, placement — so a job runs exactly as a service replica would.
 */
import { Cron } from "croner";
import { z } from "zod";
import { describeInput, duration, nonNegativeInt, positiveInt } from "./fields.js";
import { metadataSchema, serviceFields } from "./service-schema.js";

const workloadFields = serviceFields.pick({ runtime: true, command: true, working_dir: true, image: true, placement: true, resources: true, stop: true, configuration: true, security: true }).shape;

export const jobSpecSchema = z
  .strictObject({
    ...workloadFields,
    /** Attempts running at once. */
    parallelism: positiveInt.default(1),
    /** Successful attempts that complete the run. */
    completions: positiveInt.default(1),
    /** Failed attempts allowed before the run fails (Kubernetes' default). */
    backoff_limit: nonNegativeInt.default(6),
    /** The wait before a failed attempt is retried: `initial`, times `multiplier` per failure, up to `max`. */
    backoff: z
      .strictObject({ initial: duration.default(10_000), max: duration.default(360_000), multiplier: z.number().min(1, { error: "must be at least 1" }).default(2) })
      .prefault({}),
    /** The whole run's limit; attempts still running then are stopped and the run fails. */
    active_deadline: duration.optional(),
    /** A finished run (and its logs) is deleted this long after it ended; kept otherwise (a cron job keeps its history counts). */
    ttl_after_finished: duration.optional(),
  })
  .prefault({});

/** Five fields (minute first), or six with seconds first; a well-kept parser (croner) judges them. */
const schedule = z.string({ error: (issue) => `expected a cron expression, got ${describeInput(issue.input)}` }).superRefine((text, ctx) => {
  const fields = text.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    ctx.addIssue({ code: "custom", message: `expected 5 fields (minute hour day month weekday) or 6 (seconds first), got ${fields}: ${JSON.stringify(text)}` });
    return;
  }
  try {
    new Cron(text, { paused: true });
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `invalid cron expression ${JSON.stringify(text)}: ${(error as Error).message.replace(/^CronPattern: /, "")}` });
  }
});

const timeZone = z.string().superRefine((zone, ctx) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
  } catch {
    ctx.addIssue({ code: "custom", message: `unknown time zone ${JSON.stringify(zone)} (an IANA name, e.g. Europe/Paris or UTC)` });
  }
});

export const cronJobSpecSchema = z.strictObject({
  schedule,
  /** The zone the schedule is read in (default: the server's). */
  time_zone: timeZone.optional(),
  /** What a slot does while a run is still going: start another (Allow), skip it (Forbid), or stop the old one (Replace). */
  concurrency_policy: z.enum(["Allow", "Forbid", "Replace"]).default("Allow"),
  /** A slot not started within this long (drover down, a Forbid skip) is skipped, not run late. */
  starting_deadline: duration.optional(),
  successful_history: nonNegativeInt.default(3),
  failed_history: nonNegativeInt.default(1),
  suspend: z.boolean().default(false),
  job: jobSpecSchema,
});

export const jobDocumentSchema = z.strictObject({ apiVersion: z.string(), kind: z.literal("Job"), metadata: metadataSchema, spec: jobSpecSchema });
export const cronJobDocumentSchema = z.strictObject({ apiVersion: z.string(), kind: z.literal("CronJob"), metadata: metadataSchema, spec: cronJobSpecSchema });

export type JobSpecParsed = z.output<typeof jobSpecSchema>;
export type CronJobSpecParsed = z.output<typeof cronJobSpecSchema>;
export type JobDocumentParsed = z.output<typeof jobDocumentSchema>;
export type CronJobDocumentParsed = z.output<typeof cronJobDocumentSchema>;
