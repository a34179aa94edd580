/**
 * `protocol: tcp` ports through the kernel: where drover runs as root and `iptables` exists,
 * connections to a service port are DNAT-ed straight to a ready replica (a random pick, weighted
 * per revision), so bytes never pass through drover — the same throughput as going direct. The
 * rules live in chains of this drover's own (named after a hash of DROVER_HOME, so two drovers on
 * one machine keep apart), are replaced atomically with `iptables-restore --noflush`, and are
 * removed when drover closes. Connections already established keep their replica (conntrack),
 * which is what draining needs. Without root or iptables the Node forwarder does the work.
 */
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";

export interface KernelRoute {
  port: number;
  /** Only connections to 127.0.0.1 (`expose: false`), whatever the router's own address. */
  loopbackOnly?: boolean;
  backends: Array<{ port: number; share: number }>;
}

export class KernelTcp {
  private applied = "";
  private chains = new Set<string>();
  private running: Promise<void> | null = null;
  private pending: KernelRoute[] | null = null;

  private constructor(
    private readonly chain: string,
    /** The address clients connect to: 127.0.0.1, or any local address for 0.0.0.0. */
    private readonly host: string,
  ) {}

  /** Null (with the reason) where the kernel path cannot be used here. */
  static detect(home: string, host: string): { kernel: KernelTcp | null; detail: string } {
    if (process.env.DROVER_ROUTER_KERNEL === "off") return { kernel: null, detail: "tcp ports: Node forwarder (DROVER_ROUTER_KERNEL=off)" };
    if (process.getuid?.() !== 0) return { kernel: null, detail: "tcp ports: Node forwarder (the kernel path needs root)" };
    const version = spawnSync("iptables", ["--version"], { encoding: "utf8" });
    if (version.status !== 0) return { kernel: null, detail: "tcp ports: Node forwarder (no iptables; apt-get install -y iptables for the kernel path)" };
    const chain = chainName(home);
    const kernel = new KernelTcp(chain, host);
    const error = kernel.install();
    if (error) return { kernel: null, detail: `tcp ports: Node forwarder (iptables refused: ${error})` };
    return { kernel, detail: `tcp ports: kernel DNAT (${version.stdout.trim()}, chain ${chain})` };
  }

  /** Removes what a drover with this home left behind (after kill -9), without installing anything. */
  static forget(home: string): void {
    if (process.getuid?.() !== 0 || spawnSync("iptables", ["--version"]).status !== 0) return;
    const kernel = new KernelTcp(chainName(home), "127.0.0.1");
    const existing = spawnSync("iptables", ["-t", "nat", "-S"], { encoding: "utf8" }).stdout ?? "";
    if (!existing.includes(`-N ${kernel.chain}`)) return;
    for (const match of existing.matchAll(new RegExp(`^-N (${kernel.chain}-\\d+)$`, "gm"))) kernel.chains.add(match[1]!);
    kernel.close();
  }

  /** Makes the rules say `routes` (asynchronously; calls coalesce, the last one wins). */
  apply(routes: KernelRoute[]): Promise<void> {
    this.pending = routes;
    if (this.running) return this.running;
    // Marked as running before the loop starts: a loop with nothing to do ends synchronously.
    let done!: () => void;
    const running = new Promise<void>((resolve) => (done = resolve));
    this.running = running;
    void this.drain().finally(done);
    return running;
  }

  /** Removes this drover's rules and chains. */
  close(): void {
    this.pending = null;
    const lines = ["*nat", `:${this.chain} - [0:0]`, ...[...this.chains].map((c) => `:${c} - [0:0]`), ...[...this.chains].map((c) => `-X ${c}`), "COMMIT", ""];
    spawnSync("iptables-restore", ["--noflush"], { input: lines.join("\n") });
    for (const parent of ["OUTPUT", "PREROUTING"]) spawnSync("iptables", ["-t", "nat", "-D", parent, "-j", this.chain]);
    spawnSync("iptables", ["-t", "nat", "-X", this.chain]);
  }

  private install(): string | null {
    const create = spawnSync("iptables", ["-t", "nat", "-N", this.chain], { encoding: "utf8" });
    if (create.status !== 0 && !/exists/i.test(create.stderr)) return create.stderr.trim();
    // Chains left by an earlier drover with this home are replaced on the first apply.
    const existing = spawnSync("iptables", ["-t", "nat", "-S"], { encoding: "utf8" }).stdout ?? "";
    for (const match of existing.matchAll(new RegExp(`^-N (${this.chain}-\\d+)$`, "gm"))) this.chains.add(match[1]!);
    for (const parent of ["OUTPUT", "PREROUTING"]) {
      if (spawnSync("iptables", ["-t", "nat", "-C", parent, "-j", this.chain]).status !== 0) {
        const insert = spawnSync("iptables", ["-t", "nat", "-I", parent, "-j", this.chain], { encoding: "utf8" });
        if (insert.status !== 0) return insert.stderr.trim();
      }
    }
    return null;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending) {
        const routes = this.pending;
        this.pending = null;
        const { text, chains } = this.ruleset(routes);
        if (text === this.applied || !(await restore(text))) continue;
        // Only rules that were applied count: a failed restore leaves the chains as they were.
        this.applied = text;
        this.chains = chains;
      }
    } finally {
      this.running = null;
    }
  }

  private ruleset(routes: KernelRoute[]): { text: string; chains: Set<string> } {
    const destination = this.host === "0.0.0.0" ? ["-m", "addrtype", "--dst-type", "LOCAL"] : ["-d", this.host];
    const lines = ["*nat", `:${this.chain} - [0:0]`];
    const wanted = new Set<string>();
    const rules: string[] = [];
    for (const route of routes) {
      const backends = route.backends.filter((b) => b.share > 0);
      if (backends.length === 0) continue; // no rule: the Node listener answers (and refuses)
      const chain = `${this.chain}-${route.port}`;
      wanted.add(chain);
      rules.push(`-A ${this.chain} -p tcp ${(route.loopbackOnly ? ["-d", "127.0.0.1"] : destination).join(" ")} --dport ${route.port} -j ${chain}`);
      // Sequential random picks: each rule takes its share of what the rules before it left.
      let left = backends.reduce((sum, b) => sum + b.share, 0);
      backends.forEach((backend, i) => {
        const target = `-j DNAT --to-destination 127.0.0.1:${backend.port}`;
        if (i === backends.length - 1) rules.push(`-A ${chain} -p tcp ${target}`);
        else rules.push(`-A ${chain} -p tcp -m statistic --mode random --probability ${(backend.share / left).toFixed(6)} ${target}`);
        left -= backend.share;
      });
    }
    for (const chain of wanted) lines.push(`:${chain} - [0:0]`);
    const gone = [...this.chains].filter((c) => !wanted.has(c));
    for (const chain of gone) lines.push(`:${chain} - [0:0]`);
    lines.push(...rules, ...gone.map((c) => `-X ${c}`), "COMMIT", "");
    return { text: lines.join("\n"), chains: wanted };
  }
}

function chainName(home: string): string {
  return `DRV-${crypto.createHash("sha256").update(home).digest("hex").slice(0, 8)}`;
}

function restore(text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("iptables-restore", ["--noflush"], { stdio: ["pipe", "ignore", "pipe"] });
    let error = "";
    child.stderr.on("data", (chunk) => (error += chunk));
    child.once("error", () => resolve(false));
    child.once("exit", (code) => {
      if (code !== 0) process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: `iptables-restore failed: ${error.trim()}` })}\n`);
      resolve(code === 0);
    });
    child.stdin.end(text);
  });
}
