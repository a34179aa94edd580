/**
 * Every type that crosses a boundary, in one place that imports nothing of drover but the
 * descriptor types: the local agent, the server, the CLI and the dashboard all import from here.
 * The wire protocol itself (wire.ts, connection.ts) is imported directly by the two ends that
 * speak it, so nothing else builds its schemas.
 */
export * from "./metrics.js";
export * from "./node-agent.js";
export * from "./probes.js";
export * from "./replicas.js";
export * from "./routes.js";
export * from "./traffic.js";
export * from "./nodes.js";
export * from "./records.js";
export * from "./views.js";
export * from "./pools.js";
export * from "./jobs.js";
export * from "./volumes.js";
