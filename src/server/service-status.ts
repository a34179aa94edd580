/** One word for how a service is doing, derived from its replicas (never stored, so never stale). */
import type { ServiceDescriptor } from "../spec/index.js";
import type { ReplicaRecord, ServiceRecord, ServiceStatus } from "../contract/index.js";
import { isFinal } from "./replica-plan.js";
import { CRASH_LOOP_AFTER } from "./restart-policy.js";


/**
 * `problem`: why the current revision cannot start at all (its preparation failed), if so.
 * `nodesJoining`: a node is joining; a replica with no node yet may fit there in a moment, so it is
 * progressing, not unschedulable.
 */
export function serviceStatus(service: ServiceRecord, replicas: ReplicaRecord[], waitingFor: string[], problem: { reason: string } | null = null, nodesJoining = false): ServiceStatus {
  if (service.deleting) return "deleting";
  if (!service.enabled) return replicas.length > 0 ? "stopping" : "stopped";
  const current = replicas.filter((r) => r.revision === service.revision && r.state !== "terminating");
  if (problem && !current.some((r) => r.state === "ready")) return problem.reason === "image_unavailable" ? "image_unavailable" : "runtime_unavailable";
  // A replica given up on (by its policy or its healing rules) outranks one still trying.
  if (current.some((r) => isFinal(r) && r.state === "failed")) return "failed";
  // Sticky across restart attempts: a crash-looping replica that is starting again is still crash-looping.
  if (replicas.some((r) => r.state === "crash_loop" || (r.consecutiveFailures >= CRASH_LOOP_AFTER && r.state !== "ready" && r.state !== "terminating" && !isFinal(r)))) return "crash_loop";
  if (waitingFor.length > 0 && replicas.length === 0) return "waiting";
  if (current.some(isUnplaced) && !nodesJoining) return "unschedulable";
  const ready = current.filter((r) => r.state === "ready").length;
  const others = replicas.filter((r) => r.revision !== service.revision).length;
  return ready >= service.replicas && others === 0 ? "ready" : "progressing";
}

/** What a service waits for before its first replica starts: dependencies without a ready replica, missing config maps and secrets. */
export function waitsOf(descriptor: ServiceDescriptor, readyServices: Set<string>, existingObjects: Set<string>): string[] {
  const ns = descriptor.metadata.namespace;
  const { config_maps, secrets } = descriptor.spec.configuration;
  const missing = [
    ...config_maps.filter((r) => !existingObjects.has(`ConfigMap:${ns}/${r.name}`)).map((r) => `config map ${r.name}`),
    ...secrets.filter((r) => !existingObjects.has(`Secret:${ns}/${r.name}`)).map((r) => `secret ${r.name}`),
  ];
  return [...dependencyWaits(descriptor, readyServices), ...missing];
}

/** The keys {@link waitsOf} looks config objects up by. */
export function objectKeys(objects: Array<{ kind: string; name: string }>): Set<string> {
  return new Set(objects.map((o) => `${o.kind}:${o.name}`));
}

/** Required dependencies (by short name) that have no ready replica; `readyServices` holds `namespace/name`. */
export function dependencyWaits(descriptor: ServiceDescriptor, readyServices: Set<string>): string[] {
  const ns = descriptor.metadata.namespace;
  return descriptor.spec.dependencies.filter((d) => d.required && !readyServices.has(`${ns}/${d.name}`)).map((d) => d.name);
}

/** Pending with no node that fits: its `reason` says why, per filter. */
export function isUnplaced(replica: ReplicaRecord): boolean {
  return replica.state === "pending" && replica.node === "";
}

/** Why a service's replicas cannot be placed, or null when they can. */
export function unschedulableReason(replicas: ReplicaRecord[]): string | null {
  const reason = replicas.find(isUnplaced)?.reason;
  return reason ? `no node fits: ${reason.replace(/^Unschedulable: /, "")}` : null;
}
