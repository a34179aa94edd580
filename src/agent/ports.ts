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
  const match = /^(\d+)-(\d+)$/.exec(text ?? "");
  if (!match) return { from: 20000, to: 29999 };
  const from = Number(match[1]);
  const to = Number(match[2]);
  if (from < 1024 || to > 65535 || from >= to) throw new Error(`DROVER_PORT_RANGE ${text}: expected FROM-TO within 1024-65535`);
  return { from, to };
}

export class PortAllocator {
  constructor(private readonly range: PortRange, private readonly inUse: () => Iterable<number>) {}

  /** `count` free ports; `preferred` ones are kept when still free (a restarted replica keeps its port). */
  async allocate(count: number, preferred: number[] = []): Promise<number[]> {
    const taken = new Set(this.inUse());
    const chosen: number[] = [];
    for (const port of preferred) {
      if (chosen.length < count && !taken.has(port) && (await isFree(port))) {
        chosen.push(port);
        taken.add(port);
      }
    }
    const size = this.range.to - this.range.from + 1;
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size && chosen.length < count; i++) {
      const port = this.range.from + ((start + i) % size);
      if (taken.has(port)) continue;
      if (await isFree(port)) {
        chosen.push(port);
        taken.add(port);
      }
    }
    if (chosen.length < count) throw new Error(`no free port left in ${this.range.from}-${this.range.to}`);
    return chosen;
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
