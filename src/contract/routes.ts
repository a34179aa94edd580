/** Service ports as the server asks every node's router to serve them. */
export type Algorithm = "round_robin" | "least_connections";

export interface BackendTarget {
  replica: string;
  revision: number;
  /** Where the replica is reached: 127.0.0.1 for processes, a container's own address for containers. */
  host: string;
  port: number;
  /** The replica's port on 127.0.0.1 (for containers, the published one): the kernel path DNATs only to loopback. */
  hostPort: number;
}

export interface Route {
  service: string;
  portName: string;
  port: number;
  protocol: "http" | "tcp";
  algorithm: Algorithm;
  /** Share of new requests per revision (canary, blue-green); null: every ready replica alike. */
  weights: Record<string, number> | null;
  /** `expose: false`: the router listens on loopback only (the node's own services reach it; the network does not). */
  loopbackOnly?: boolean;
  /**
   * Ready replicas of the service on other nodes (the routing mesh): every node's router serves
   * every service port and forwards to replicas anywhere. The node's own replicas it knows itself.
   */
  remote?: BackendTarget[];
}

export interface RouteStatus extends Route {
  error: string | null;
}
