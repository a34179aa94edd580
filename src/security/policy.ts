/**
 * Admission policies: each rule of each `kind: Policy` that covers a service's namespace is
 * checked on every apply. A violation names the field it is about; `enforce` rejects the apply
 * (nothing is changed), `warn` lets it through with a warning.
 */
import type { PolicyDocument, PolicyRule, ServiceDescriptor } from "../spec/index.js";
import type { SignatureCheck } from "./signatures.js";

export interface Violation {
  policy: string;
  rule: PolicyRule["rule"];
  mode: "enforce" | "warn";
  path: PropertyKey[];
  message: string;
}

export function evaluatePolicies(policies: PolicyDocument[], service: ServiceDescriptor, signature: SignatureCheck): Violation[] {
  const violations: Violation[] = [];
  for (const policy of policies) {
    if (policy.spec.namespaces.length && !policy.spec.namespaces.includes(service.metadata.namespace)) continue;
    for (const rule of policy.spec.rules) {
      for (const found of check(rule, service, signature)) {
        violations.push({ policy: policy.metadata.name, rule: rule.rule, mode: rule.mode, path: found.path, message: `policy ${policy.metadata.name} (${rule.rule}, ${rule.mode}): ${found.message}` });
      }
    }
  }
  return violations;
}

function check(rule: PolicyRule, service: ServiceDescriptor, signature: SignatureCheck): Array<{ path: PropertyKey[]; message: string }> {
  const { spec } = service;
  const security = spec.security;
  switch (rule.rule) {
    case "require_non_root": {
      if (security.run_as_user === 0) return [{ path: ["spec", "security", "run_as_user"], message: "runs as root (user 0)" }];
      if (security.run_as_user === undefined && security.run_as_non_root !== true) return [{ path: ["spec", "security"], message: "may run as root: set run_as_user to a non-zero id (or run_as_non_root: true)" }];
      return [];
    }
    case "require_resource_limits":
      return rule.resources.filter((r) => spec.resources.limits[r] === undefined).map((r) => ({ path: ["spec", "resources", "limits", r], message: `no ${r} limit (resources.limits.${r})` }));
    case "forbid_capabilities": {
      const forbidden = new Set(rule.capabilities.map(capability));
      const found: Array<{ path: PropertyKey[]; message: string }> = security.capabilities.add
        .map((c, i) => ({ c, i }))
        .filter(({ c }) => forbidden.has(capability(c)) || forbidden.has("ALL"))
        .map(({ c, i }) => ({ path: ["spec", "security", "capabilities", "add", i], message: `adds ${c}, which is forbidden` }));
      if (security.security_context.privileged) found.push({ path: ["spec", "security", "security_context", "privileged"], message: "privileged holds every capability, forbidden ones included" });
      return found;
    }
    case "require_read_only_root_filesystem":
      return security.security_context.read_only_root_filesystem ? [] : [{ path: ["spec", "security", "security_context", "read_only_root_filesystem"], message: "the root filesystem is writable (set read_only_root_filesystem: true)" }];
    case "require_probes":
      return rule.probes.filter((p) => spec.health_checks[`${p}_probe`] === undefined).map((p) => ({ path: ["spec", "health_checks", `${p}_probe`], message: `no ${p} probe` }));
    case "allowed_runtimes":
      return rule.runtimes.includes(spec.runtime) ? [] : [{ path: ["spec", "runtime"], message: `runtime ${spec.runtime} is not allowed (allowed: ${rule.runtimes.join(", ")})` }];
    case "require_signature":
      return signature.ok ? [] : [{ path: [], message: signature.reason }];
  }
}

/** NET_ADMIN and CAP_NET_ADMIN are the same capability. */
function capability(name: string): string {
  return name.toUpperCase().replace(/^CAP_/, "");
}
