/** Every label constraint of the service holds on the node. */
import { describeExpression, labelsMatch } from "../label-expression.js";
import type { Filter } from "../types.js";

export const constraintsMet: Filter = {
  passes: (node, request) => request.placement.constraints.every((c) => labelsMatch(node.labels, c)),
  reason(node, request) {
    const failed = request.placement.constraints.find((c) => !labelsMatch(node.labels, c))!;
    return `constraint ${describeExpression(failed)} failed`;
  },
};
