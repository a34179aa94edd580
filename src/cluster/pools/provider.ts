/**
 * What a node pool needs from wherever machines come from. One implementation per file
 * (providers/): `local` (network namespaces on this machine), `ssh` (existing hosts), `exec` (any
 * program answering the same verbs with JSON). Every instance a provider makes carries drover's
 * instance id as a tag (in its name, or its metadata), so `list` can tell drover's own from
 * others' and an instance created just before a crash is found again, never leaked.
 */
import type { MachineType } from "../../spec/index.js";

/** How a new node reaches the servers and proves itself the first time. */
export interface JoinInstructions {
  /** Every server's cluster address, host:port. */
  servers: string[];
  /** A short-lived join token made for this instance. */
  token: string;
  /** The cluster CA's public key hash, which the agent checks before sending the token. */
  caHash: string;
}

export interface CreateRequest {
  /** drover's id for the instance, also its node's name: the tag. */
  instance: string;
  pool: string;
  /** This cluster's id, so providers shared by several clusters list only this one's instances. */
  cluster: string;
  machine: MachineType;
  labels: Record<string, string>;
  join: JoinInstructions;
}

export interface ProviderInstance {
  providerId: string;
  /** The drover instance id it was tagged with. */
  instance: string;
  state: "pending" | "running" | "stopped";
  address: string | null;
}

export interface Provider {
  /** Machine types, with CPU, memory, GPUs, hourly cost and watts. */
  catalog(): Promise<MachineType[]>;
  /** Makes the machine (tagged with `request.instance`) and sets it up to join; idempotent for one instance id. */
  create(request: CreateRequest): Promise<{ providerId: string; address: string | null }>;
  /** Starts it (and its agent); starting a running one changes nothing. */
  start(providerId: string, request: CreateRequest): Promise<void>;
  /** Removes it and everything drover put on it; terminating a gone one changes nothing. */
  terminate(providerId: string): Promise<void>;
  address(providerId: string): Promise<string | null>;
  exists(providerId: string): Promise<boolean>;
  /** This cluster's instances of this pool, as the provider sees them. */
  list(): Promise<ProviderInstance[]>;
}

/** A provider that answered wrongly (garbage, a refused host key): the pool says so until fixed. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
}

/** Catalog entries of the pool replace the provider's entries of the same name, and add to them. */
export function mergeCatalog(provider: MachineType[], pool: MachineType[]): MachineType[] {
  const byName = new Map(provider.map((m) => [m.name, m]));
  for (const machine of pool) byName.set(machine.name, machine);
  return [...byName.values()];
}
