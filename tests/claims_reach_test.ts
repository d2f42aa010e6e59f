/**
 * Evidence for `stats().reach`: `"process"` on Linux, where every thread's
 * secmem shares one table, and `"thread"` where the kernel gives no such
 * table: macOS (its layer over the fake kernel of tests/_fake_darwin.ts, in
 * a child so that no table was attached first) and Windows (this file runs
 * under Wine with the rest of the suite, tests/windows/run.sh).
 *
 * @module
 */

import assert from "node:assert/strict";
import { stats } from "../mod.ts";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { isWindows, linuxOnly, windowsOnly } from "./_platform.ts";

function reachIn(kernel: string): string {
  const run = runChild(childScript("claims_reach.ts"), [kernel]);
  assert.equal(run.status, 0, `the child failed: ${run.stdout}${run.stderr}`);
  const match = /^reach (\w+)$/m.exec(run.stdout);
  assert(match, run.stdout);
  return match[1];
}

test('stats().reach is "process" on Linux (control)', () => {
  assert.equal(reachIn("native"), "process");
}, { skip: linuxOnly });

test(
  'stats().reach is "thread" on macOS (its layer over the fake kernel)',
  () => {
    assert.equal(reachIn("darwin"), "thread");
  },
  { skip: isWindows ? "the fake kernel child runs on Linux" : false },
);

test('stats().reach is "thread" on Windows', () => {
  assert.equal(stats().reach, "thread");
}, { skip: windowsOnly });
