import { test } from "node:test";
import assert from "node:assert/strict";
import { closest, didYouMean } from "./did-you-mean.js";

test("suggests close names and ignores distant ones", () => {
  const cases: Array<[string, string[], string | undefined]> = [
    ["replica", ["replicas", "runtime"], "replicas"],
    ["helth_checks", ["health_checks", "healing"], "health_checks"],
    ["comand", ["command", "image"], "command"],
    ["xyz", ["replicas", "runtime"], undefined],
    ["web", ["http", "grpc"], undefined],
    ["htp", ["http", "grpc"], "http"],
  ];
  for (const [word, candidates, expected] of cases) assert.equal(closest(word, candidates), expected, word);
  assert.equal(didYouMean("portz", ["ports"]), ' (did you mean "ports"?)');
});
