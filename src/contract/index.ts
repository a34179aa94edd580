/**
 * Every type that crosses the server/agent boundary, in one place that imports nothing of drover
 * but the descriptor types: the local agent, the remote agent's wire protocol (wire.ts), the
 * server, the CLI and the dashboard all import from here.
 */
export * from "./metrics.js";
export * from "./node-agent.js";
export * from "./probes.js";
export * from "./replicas.js";
export * from "./routes.js";
export * from "./traffic.js";
export * from "./nodes.js";
export * from "./wire.js";
export * from "./connection.js";
export * from "./records.js";
export * from "./views.js";
