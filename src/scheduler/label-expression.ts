/** Whether a node's labels meet one label expression (a constraint or an affinity). */
import type { PlacementSpec } from "../spec/index.js";

export type LabelExpression = PlacementSpec["constraints"][number];

export function labelsMatch(labels: Readonly<Record<string, string>>, expression: LabelExpression): boolean {
  const value = labels[expression.label];
  switch (expression.operator) {
    case "in":
      return value !== undefined && expression.values.includes(value);
    case "not_in":
      return value === undefined || !expression.values.includes(value);
    case "exists":
      return value !== undefined;
    case "not_exists":
      return value === undefined;
    case "gt":
    case "lt": {
      // As in Kubernetes: both sides whole numbers, else no match.
      if (value === undefined || !/^-?\d+$/.test(value)) return false;
      const a = Number(value);
      const b = Number(expression.values[0]);
      return expression.operator === "gt" ? a > b : a < b;
    }
  }
}

/** `zone in (eu, us)`, `gpu exists`, `cores gt 8`: how users see an expression in reasons. */
export function describeExpression(expression: LabelExpression): string {
  const op = expression.operator.replace("_", " ");
  if (expression.operator === "exists" || expression.operator === "not_exists") return `${expression.label} ${op}`;
  if (expression.operator === "gt" || expression.operator === "lt") return `${expression.label} ${op} ${expression.values[0]}`;
  return `${expression.label} ${op} (${expression.values.join(", ")})`;
}
