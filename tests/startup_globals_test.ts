/**
 * Importing the main entry and making the first secret reads none of the
 * globals that a runtime builds at their first read: Deno's `setTimeout`
 * and `setImmediate` (its Node timers, 10 to 20 ms), Node's `crypto` (Web
 * Crypto, 13 to 17 ms of CPU). secmem takes them at load all the same:
 * the timers as Deno's accessors (src/core/_intrinsics.ts), `crypto` in
 * src/core/_public_random.ts, which only the modules that make nonces
 * import. bench/RESULTS.md, "Start-up".
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";

test("the first secret after import reads neither the timers nor crypto", () => {
  const child = runChild(childScript("startup_globals.ts"));
  assert.equal(child.status, 0, child.stdout + child.stderr);
  const seen = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
  assert.deepEqual(seen.reads, { setTimeout: 0, setImmediate: 0, crypto: 0 });
  assert.equal(seen.named, "function", "the counting accessors stood");
});

test("a generator replaced after the main entry's import makes no nonce for a crypto entry imported later", () => {
  const child = runChild(childScript("late_generator.ts"));
  assert.equal(child.status, 0, child.stdout + child.stderr);
  const seen = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
  assert.equal(seen.replacedCalls, 0, "the replaced generator made nonces");
  assert.equal(seen.noncesDiffer, true, "two encryptions shared a nonce");
});
