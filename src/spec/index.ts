export { loadDescriptors, API_VERSIONS, type DescriptorFile, type LoadOptions } from "./load.js";
export type { KnownObjects } from "./checks.js";
export { SpecError, formatIssue, type SpecIssue } from "./errors.js";
export { descriptorJsonSchema } from "./json-schema.js";
export * from "./types.js";
export * from "./units.js";
export { closest, didYouMean } from "./did-you-mean.js";
export type { PlacementSpec, ProbeSpec } from "./service-schema.js";
export { dataKey, POLICY_RULES, type PolicyDocument, type PolicyRule } from "./config-schema.js";
