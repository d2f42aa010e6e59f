/**
 * Evidence for "Printing": every way a program prints a SecretBuffer, in
 * each runtime's own console and inspect, shows its size and state, never
 * its bytes, also while a read scope has the pages open.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test(
  "console.log, String, JSON, inspect and templates show size and state only",
  () => {
    const run = runChild(childScript("claims_print.ts"));
    assert.equal(run.status, 0, run.stderr);
    // The bytes are ABCDE: neither as text nor as numbers may appear.
    assert.doesNotMatch(run.stdout, /ABCDE|65|0x41|41, 42/);
    const lines = run.stdout.replace(/\{\s*nested: (.*?),?\s*\}/s, "$1")
      .trimEnd().split("\n");
    assert.deepEqual(lines, [
      "SecretBuffer(5 bytes, noaccess)",
      "SecretBuffer(5 bytes, noaccess)",
      "SecretBuffer(5 bytes, noaccess)",
      '"SecretBuffer(5 bytes, noaccess)"',
      "SecretBuffer(5 bytes, noaccess)",
      "SecretBuffer(5 bytes, noaccess)",
      "SecretBuffer(5 bytes, readonly)",
      "SecretBuffer(5 bytes, destroyed)",
    ]);
  },
  { skip: linuxOnly },
);
