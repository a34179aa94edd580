import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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
    await waitUntil(() => seen === "one\n");
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, "two\n");
    await waitUntil(() => seen === "one\ntwo\n");
  } finally {
    stop();
    fs.rmSync(dir, { recursive: true });
  }
});

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
