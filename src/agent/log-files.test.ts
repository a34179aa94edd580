import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { waitFor } from "../../test/harness.js";
import { followFile, rotateIfLarge, tailLines } from "./log-files.js";

test("rotation copies and truncates, keeping a bounded number of files; tail reaches into the last one", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-logs-"));
  const file = path.join(dir, "replica.log");
  const fd = fs.openSync(file, "a");
  try {
    for (let round = 1; round <= 5; round++) {
      fs.writeSync(fd, `${Array.from({ length: 20 }, (_, i) => `round ${round} line ${i}`).join("\n")}\n`);
      assert.equal(rotateIfLarge(file, 100, 3), true);
      assert.equal(fs.statSync(file).size, 0, "the writer keeps its descriptor; the file is emptied in place");
    }
    fs.writeSync(fd, "fresh 1\nfresh 2\n");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["replica.log", "replica.log.1", "replica.log.2", "replica.log.3"]);
    assert.deepEqual(tailLines(file, 4), ["round 5 line 18", "round 5 line 19", "fresh 1", "fresh 2"]);
    assert.equal(rotateIfLarge(file, 1000, 3), false, "small files stay");
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true });
  }
});

test("follow delivers what is appended, and starts over after a rotation", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-logs-"));
  const file = path.join(dir, "replica.log");
  fs.writeFileSync(file, "old\n");
  let seen = "";
  const stop = followFile(file, (text) => (seen += text), 20);
  try {
    fs.appendFileSync(file, "one\n");
    await waitFor("the first line", () => seen === "one\n", 5_000, 10);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, "two\n");
    await waitFor("the line after the rotation", () => seen === "one\ntwo\n", 5_000, 10);
  } finally {
    stop();
    fs.rmSync(dir, { recursive: true });
  }
});
