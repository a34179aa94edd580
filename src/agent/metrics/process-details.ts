/**
 * What /proc tells about a set of processes beyond CPU and memory: open file descriptors,
 * threads, and bytes read from and written to storage. Summed over the replica's processes.
 */
import fs from "node:fs";

export interface ProcessDetails {
  openFds: number;
  threads: number;
  diskReadBytes: number;
  diskWrittenBytes: number;
}

export function processDetails(pids: number[]): ProcessDetails {
  const details: ProcessDetails = { openFds: 0, threads: 0, diskReadBytes: 0, diskWrittenBytes: 0 };
  for (const pid of pids) {
    try {
      details.openFds += fs.readdirSync(`/proc/${pid}/fd`).length;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      // Field 20 (num_threads), counted from after the command name's closing parenthesis.
      details.threads += Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[17] ?? 0);
      const io = fs.readFileSync(`/proc/${pid}/io`, "utf8");
      details.diskReadBytes += Number(/^read_bytes: (\d+)/m.exec(io)?.[1] ?? 0);
      details.diskWrittenBytes += Number(/^write_bytes: (\d+)/m.exec(io)?.[1] ?? 0);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return details;
}
