/** `drover dashboard`: a one-time login link to the web dashboard, opened in a browser where there is one. */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import { ApiClient } from "../client.js";

export function registerDashboard(program: Command): void {
  program
    .command("dashboard")
    .description("print a one-time login link to the web dashboard (valid 2 minutes, for this token's role) and open it where a desktop is")
    .option("--no-open", "only print the link")
    .action(async (flags: { open: boolean }) => {
      const client = new ApiClient();
      const { code } = await client.post<{ code: string; expiresAt: number }>("/api/v1/dashboard/codes");
      const url = `${client.baseUrl}/#login=${encodeURIComponent(code)}`;
      process.stdout.write(`${url}\n`);
      if (flags.open && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
        const opener = process.platform === "darwin" ? "open" : "xdg-open";
        spawn(opener, [url], { detached: true, stdio: "ignore" }).on("error", () => undefined).unref();
      }
    });
}
