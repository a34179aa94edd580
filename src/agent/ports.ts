/**
 * Host ports for replicas. Each replica gets its own port per declared service port; the router
 * owns the service port itself. The scan starts at a random point of the range so that several
 * drover instances (tests in parallel) rarely race for the same port.
 */
import net from "node:net";

export interface PortRange {
  from: number;
  to: number;
}

export function parsePortRange(text: string | undefined): PortRange {
  if (text === undefined || text === "") return { from: 20000, to: 29999 };
  const match = /^(\d+)-(\d+)$/.exec(text);
  if (!match) throw new Error(`DROVER_PORT_RANGE ${text}: expected FROM-TO, e.g. 20000-29999`);
  const from = Number(match[1]);
  const to = Number(match[2]);
  if (from < 1024 || to > 65535 || from >= to) throw new Error(`DROVER_PORT_RANGE ${text}: expected FROM-TO within 1024-65535`);
  return { from, to };
}

export class PortAllocator {
  /** Handed out but not yet visible through `inUse` (the replica is still being started). */
  private readonly pending = new Set<number>();

  constructor(private readonly range: PortRange, private readonly inUse: () => Iterable<number>) {}

  /**
   * `count` free ports; `preferred` ones are kept when still free (a restarted replica keeps its
   * port). Call {@link settle} once the ports show in `inUse`, or the start failed.
   */
  async allocate(count: number, preferred: number[] = []): Promise<number[]> {
    const used = new Set(this.inUse());
    const chosen: number[] = [];
    // Checked again after every await: allocations run concurrently and share `pending`.
    const claim = async (port: number) => {
      if (used.has(port) || this.pending.has(port)) return;
      this.pending.add(port);
      if (await isFree(port)) chosen.push(port);
      else this.pending.delete(port);
    };
    for (const port of preferred) if (chosen.length < count) await claim(port);
    const size = this.range.to - this.range.from + 1;
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size && chosen.length < count; i++) await claim(this.range.from + ((start + i) % size));
    if (chosen.length < count) {
      this.settle(chosen);
      throw new Error(`no free port left in ${this.range.from}-${this.range.to}`);
    }
    return chosen;
  }

  settle(ports: Iterable<number>): void {
    for (const port of ports) this.pending.delete(port);
  }
}

/** Whether nothing listens on `port` on any address (binding the unspecified address collides with all). */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
