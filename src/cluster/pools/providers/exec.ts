/**
 * The `exec` provider: any program that answers drover's verbs with JSON, so a cloud CLI wrapped
 * in a script becomes a provider without changing drover. drover runs `COMMAND... VERB` with the
 * request as JSON on stdin and reads one JSON document from stdout; a non-zero exit is a failure,
 * its stderr the reason. The contract is in docs/operations.md ("Node pools and providers"), with
 * examples/providers/loopback-nodes.mjs as a working example.
 */
import { spawn } from "node:child_process";
import { z } from "zod";
import { machineTypeSchema, type MachineType } from "../../../spec/index.js";
import { ProviderError, type CreateRequest, type Provider, type ProviderInstance } from "../provider.js";
import type { ProviderContext } from "../provider-context.js";
import { firstLines } from "./host-commands.js";

const answers = {
  catalog: z.object({ machines: z.array(machineTypeSchema) }),
  create: z.object({ id: z.string().min(1), address: z.string().nullable().default(null) }),
  start: z.object({}).passthrough(),
  terminate: z.object({}).passthrough(),
  address: z.object({ address: z.string().nullable() }),
  exists: z.object({ exists: z.boolean() }),
  list: z.object({
    instances: z.array(z.object({ id: z.string().min(1), instance: z.string().min(1), state: z.enum(["pending", "running", "stopped"]), address: z.string().nullable().default(null) })),
  }),
};
type Verb = keyof typeof answers;

export class ExecProvider implements Provider {
  constructor(
    private readonly context: ProviderContext,
    private readonly settings: { command: string[]; timeout: number; environment: Record<string, string> },
  ) {}

  async catalog(): Promise<MachineType[]> {
    return (await this.call("catalog", {})).machines;
  }

  async create(request: CreateRequest): Promise<{ providerId: string; address: string | null }> {
    const answer = await this.call("create", wireRequest(request));
    return { providerId: answer.id, address: answer.address };
  }

  async start(providerId: string, request: CreateRequest): Promise<void> {
    await this.call("start", { id: providerId, ...wireRequest(request) });
  }

  async terminate(providerId: string): Promise<void> {
    await this.call("terminate", { id: providerId });
  }

  async address(providerId: string): Promise<string | null> {
    return (await this.call("address", { id: providerId })).address;
  }

  async exists(providerId: string): Promise<boolean> {
    return (await this.call("exists", { id: providerId })).exists;
  }

  async list(): Promise<ProviderInstance[]> {
    const answer = await this.call("list", { cluster: this.context.cluster, pool: this.context.pool });
    return answer.instances.map((i) => ({ providerId: i.id, instance: i.instance, state: i.state, address: i.address }));
  }

  private call<V extends Verb>(verb: V, request: Record<string, unknown>): Promise<z.output<(typeof answers)[V]>> {
    const [program, ...args] = this.settings.command;
    const what = `the exec provider (${this.settings.command.join(" ")} ${verb})`;
    return new Promise((resolve, reject) => {
      const child = spawn(program!, [...args, verb], { env: { ...process.env, ...this.settings.environment, DROVER_CLUSTER: this.context.cluster, DROVER_POOL: this.context.pool }, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new ProviderError(`${what} did not answer within ${this.settings.timeout} ms`));
      }, this.settings.timeout);
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdin.on("error", () => undefined);
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(new ProviderError(`${what} cannot run: ${error.message}`));
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        if (code !== 0) return reject(new Error(`${what} failed (exit ${code}): ${firstLines(stderr || stdout)}`));
        let parsed: unknown;
        try {
          parsed = JSON.parse(stdout);
        } catch {
          return reject(new ProviderError(`${what} did not answer JSON; its output began: ${firstLines(stdout)}`));
        }
        const checked = answers[verb].safeParse(parsed);
        if (!checked.success) {
          const issue = checked.error.issues[0]!;
          return reject(new ProviderError(`${what} answered ${issue.path.join(".") || "its document"}: ${issue.message}; its output began: ${firstLines(stdout)}`));
        }
        resolve(checked.data as z.output<(typeof answers)[V]>);
      });
      child.stdin.end(JSON.stringify(request));
    });
  }
}

/** The request as the contract spells it (snake_case, machine sizes in drover's units: millicores and bytes). */
function wireRequest(request: CreateRequest): Record<string, unknown> {
  return {
    instance: request.instance,
    pool: request.pool,
    cluster: request.cluster,
    machine: request.machine,
    labels: request.labels,
    join: { servers: request.join.servers, token: request.join.token, ca_hash: request.join.caHash },
  };
}
