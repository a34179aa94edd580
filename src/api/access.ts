/**
 * Who may call what. Every route needs a token except drover's own health; `/metrics` needs one
 * unless DROVER_METRICS_OPEN=1. Reading needs a viewer; changing services an operator; tokens,
 * secrets, policies, the audit trail, backups and shutting the server down an admin.
 */
import type { Role } from "../contract/index.js";

/** Paths that need no token: drover's own health, for supervisors and load balancers. */
export const OPEN_PATHS = new Set(["/api/v1/health", "/healthz", "/readyz", "/api/v1/dashboard/session"]);

/** POST routes that change nothing (a plan is a dry run): read access, and no audit entry. */
export const READ_ONLY_POSTS = new Set(["/api/v1/plan", "/api/v1/policies/test"]);
/** POST routes any token may call: the read-only ones, and a dashboard login link for one's own role. */
const VIEWER_POSTS = new Set([...READ_ONLY_POSTS, "/api/v1/dashboard/codes"]);

const ADMIN_PREFIXES = ["/api/v1/tokens", "/api/v1/secrets", "/api/v1/policies", "/api/v1/audit", "/api/v1/backup", "/api/v1/restore", "/api/v1/shutdown", "/api/v1/nodes/join-tokens"];

/** The role a route needs (`url` is the route's pattern, e.g. /api/v1/services/:name/scale); null: open. */
export function requiredRole(method: string, url: string): Role | null {
  if (OPEN_PATHS.has(url)) return null;
  // The dashboard's files are public; everything they show comes from the API, with a token.
  if (!url.startsWith("/api/") && url !== "/metrics") return null;
  if (url === "/metrics" && process.env.DROVER_METRICS_OPEN === "1") return null;
  if (!READ_ONLY_POSTS.has(url) && ADMIN_PREFIXES.some((prefix) => url === prefix || url.startsWith(`${prefix}/`))) return "admin";
  // Removing a node revokes its credential: as strong as a token's revocation.
  if (method === "DELETE" && url === "/api/v1/nodes/:name") return "admin";
  // A database's credentials, and a restore that reads a file of the server's machine and overwrites data.
  if (url === "/api/v1/databases/:name/connection" || url === "/api/v1/databases/:name/restore") return "admin";
  return method === "GET" || method === "HEAD" || VIEWER_POSTS.has(url) ? "viewer" : "operator";
}

/** A short name for a change, for the audit trail: "scale", "apply", "token.create"… */
export function actionName(method: string, url: string): string {
  const parts = url.replace(/^\/api\/v1\//, "").split("/").filter((p) => !p.startsWith(":"));
  const [resource, ...rest] = parts;
  if (resource === "services") {
    if (rest.length === 0) return method === "DELETE" ? "delete" : "service";
    return rest.join(".");
  }
  // A collection (tokens, secrets) names the verb: token.create, secret.set; anything else its path: apply, dashboard.codes.
  const verbs: Record<string, string> = { POST: "create", DELETE: "delete", PUT: "set" };
  if (rest.length === 0 && resource!.endsWith("s")) return `${resource!.slice(0, -1)}.${verbs[method] ?? method.toLowerCase()}`;
  return parts.join(".");
}

declare module "fastify" {
  interface FastifyRequest {
    /** The token that authenticated the request (null on open routes). */
    actor: { name: string; role: Role } | null;
    /** What the audit trail records for a change, when the route says more than its name. */
    audit: { object: string; summary: string } | null;
  }
}
