/** Running the host's own tools (ip, iptables, nsenter) with their error output in the message. */
import { execFile } from "node:child_process";

export function run(command: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: "utf8", timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")}: ${(stderr || error.message).trim().split("\n").slice(0, 3).join(" / ")}`));
      else resolve(stdout);
    });
  });
}

/** Runs it and reports only whether it succeeded. */
export function succeeds(command: string, args: string[]): Promise<boolean> {
  return run(command, args).then(
    () => true,
    () => false,
  );
}

/** The first lines of a program's output, for messages about it. */
export function firstLines(text: string, lines = 3): string {
  const shown = text.trim().split("\n").slice(0, lines).join(" / ");
  return shown.length > 300 ? `${shown.slice(0, 300)}…` : shown || "(nothing)";
}
