/**
 * Reading the process table from /proc: identity (pid + start time, so a recycled pid is never
 * mistaken for a replica) and accounting of a process tree when no cgroup is available.
 */
import fs from "node:fs";

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** Clock ticks since boot; with the pid, identifies a process for its whole life. */
  startTime: number;
  cpuTicks: number;
  rssPages: number;
}

/** Linux's USER_HZ is 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;
/** Page size: 4 KiB on x86-64 and most arm64 kernels; /proc reports RSS in pages. */
const PAGE_SIZE = 4096;

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; everything after the last ')' is fixed.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(fields[n - 3]);
  return {
    pid,
    state: fields[0]!,
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    cpuTicks: field(14) + field(15),
    startTime: field(22),
    rssPages: field(24),
  };
}

/** True while `pid` is the same process that had `startTime`, and is not a zombie. */
export function isSameProcess(pid: number, startTime: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== "Z";
}

/** The pids of a process and all its descendants, from one pass over /proc. */
export function processTree(rootPid: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  let root: ProcStat | undefined;
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    if (pid === rootPid) root = stat;
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  if (!root) return [];
  const tree: ProcStat[] = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!.pid) ?? []));
  return tree;
}

export function treeUsage(tree: ProcStat[]): { cpuSeconds: number; memoryBytes: number } | null {
  if (tree.length === 0) return null;
  let ticks = 0;
  let pages = 0;
  for (const stat of tree) {
    ticks += stat.cpuTicks;
    pages += stat.rssPages;
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, memoryBytes: pages * PAGE_SIZE };
}
