/**
 * Importing the main entry and making the first secret reads neither of
 * Deno's timer globals, which it builds at their first read (its Node
 * timers, 10 to 20 ms): secmem takes their accessors at load instead
 * (src/core/_intrinsics.ts). Nor `crypto`, which Node builds at its first
 * read too (Web Crypto, about 7 ms): secmem never reads it, not even to
 * make nonces, which come from the OS through FFI
 * (src/core/_public_random.ts), so a generator replaced at any time makes
 * none, as the second test shows. bench/RESULTS.md, "Start-up".
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";

test("the first secret after import reads no timer, and nothing reads crypto", () => {
  const child = runChild(childScript("startup_globals.ts"));
  assert.equal(child.status, 0, child.stdout + child.stderr);
  const seen = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
  assert.deepEqual(seen.reads, {
    setTimeout: 0,
    setImmediate: 0,
    setInterval: 0,
    clearInterval: 0,
    crypto: 0,
  });
  assert.equal(seen.afterNonces.crypto, 0, "making nonces read crypto");
  assert.equal(seen.named, "function", "the counting accessors stood");
});

test("a generator replaced after the main entry's import makes no nonce for a crypto entry imported later", () => {
  const child = runChild(childScript("late_generator.ts"));
  assert.equal(child.status, 0, child.stdout + child.stderr);
  const seen = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
  assert.equal(seen.replacedCalls, 0, "the replaced generator made nonces");
  assert.equal(seen.noncesDiffer, true, "two encryptions shared a nonce");
});
