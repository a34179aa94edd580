/**
 * What a probe is to the agent: a check with a port already resolved to the replica's own port,
 * and the timing that turns single results into a passing or failing verdict.
 */
import type { ProbeAction, ProbeOutcome } from "../../contract/index.js";


/** A probe run: never rejects, always ends within the probe's timeout. */
export type ProbeCheck = () => Promise<ProbeOutcome>;

export function describeAction(action: ProbeAction, port: number | undefined, host = "127.0.0.1"): string {
  switch (action.type) {
    case "http":
      return `GET ${action.scheme}://${host}:${port ?? action.port}${action.path}`;
    case "tcp":
      return `TCP ${host}:${port ?? action.port}`;
    case "exec":
      return `exec ${action.command.join(" ")}`;
  }
}
