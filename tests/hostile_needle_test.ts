/**
 * The leak checker's own needle (issue 23, class 3): `findCopies` must not
 * leave behind the two halves of the needle it searched with, a mask and
 * the key XOR that mask, which XOR back to the whole key. A plain search
 * for the key cannot see that; a child searches its own memory for PAIRS
 * of runs whose XOR is the key (tests/children/hostile_needle.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { childScript, runChild } from "./_child.ts";
import { describeChild, lastJson } from "./_forensics.ts";
import { linuxOnly } from "./_platform.ts";

interface Report {
  mode: string;
  pairs: number;
  controlPairs: number;
  copies: number;
  scannedBytes: number;
}

function search(mode: "findCopies" | "none"): Report {
  const result = runChild(childScript("hostile_needle.ts"), [mode], {
    timeout: 120_000,
  });
  assert.equal(result.status, 0, describeChild(result));
  const report = lastJson<Report>(result.stdout);
  // The search can see: a pair planted on the heap on purpose is found.
  assert(
    report.controlPairs >= 1,
    `the planted control pair was not found: ${JSON.stringify(report)}`,
  );
  assert(report.scannedBytes > 1 << 20, JSON.stringify(report));
  return report;
}

test(
  "findCopies leaves no pair of runs that XOR to the key (mask and key XOR mask)",
  () => {
    const report = search("findCopies");
    assert.equal(report.copies, 0, "no plain copy either");
    assert.equal(
      report.pairs,
      0,
      `${report.pairs} pair(s) of runs XOR to the key after findCopies`,
    );
  },
  { skip: linuxOnly },
);

test(
  "control: without findCopies, the pair search finds no pair for the key",
  () => {
    assert.equal(search("none").pairs, 0);
  },
  { skip: linuxOnly },
);
