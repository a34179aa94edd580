import type { Command } from "commander";
import type { EventRecord } from "../../contract/index.js";
import { ApiClient } from "../client.js";
import { color, printStructured } from "../output.js";

export function registerEvents(program: Command): void {
  program
    .command("events")
    .description("print what happened: every replica transition and every change, with its reason")
    .option("-f, --follow", "keep printing new events as they happen")
    .option("-s, --service <service>", "only events of this service or job")
    .option("-n, --limit <count>", "how many past events", "50")
    .option("-o, --output <format>", "text, json or yaml (with -f, json prints one object per line)", "text")
    .action(async (flags: { follow?: boolean; service?: string; limit: string; output: string }) => {
      const client = new ApiClient();
      const query = `limit=${Number(flags.limit) || 50}${flags.service ? `&service=${encodeURIComponent(flags.service)}` : ""}`;
      const print = (event: EventRecord) => {
        if (flags.output === "json") process.stdout.write(`${JSON.stringify(event)}\n`);
        else process.stdout.write(`${formatEvent(event)}\n`);
      };
      if (!flags.follow) {
        const { events } = await client.get<{ events: EventRecord[] }>(`/api/v1/events?${query}`);
        if (printStructured(flags.output, events)) return;
        events.forEach(print);
        return;
      }
      const response = await client.stream(`/api/v1/events?${query}&follow=1`);
      let buffer = "";
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split("\n").find((line) => line.startsWith("data: "));
          if (data) print(JSON.parse(data.slice(6)) as EventRecord);
        }
      }
    });
}

export function formatEvent(e: EventRecord): string {
  const time = new Date(e.time).toISOString().replace("T", " ").slice(0, 23);
  const type = /Exited|CrashLoop|Failed|Error/.test(e.type) ? color.red(e.type) : e.type;
  return `${color.dim(time)}  ${type}  ${e.service ?? "-"}${e.replica ? ` ${e.replica}` : ""}  ${e.reason}: ${e.message}`;
}
