/**
 * The runner reports a test that throws `Skip` as skipped, with its
 * reason, never as passed (the gcore test used to print "ok" when it had
 * not run).
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";

test("a Skip thrown at run time is counted and printed as a skip", () => {
  const run = runChild(childScript("harness_skip.ts"));
  assert.equal(run.status, 0, run.stderr);
  assert.match(
    run.stdout,
    /\] skip +> decides at run time that it cannot run \(the tool is missing here\)/,
  );
  assert.doesNotMatch(run.stdout, /\] ok +> decides/);
  const totals = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(totals, { passed: 1, failed: 0, skipped: 1 });
});
