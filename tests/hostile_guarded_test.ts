/**
 * Adversarial suite, class 3: sources that are guarded pages themselves.
 * `from()` wipes its source, but a view over another secret's pages (read
 * inside its scope) is that secret's own memory, often read-only: wiping
 * it would fault. Such views are recognised and copied without a wipe.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretPool } from "../mod.ts";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test(
  "from(), pool.from() and fromStream() of guarded views survive and copy",
  () => {
    // Before the fix the first of these killed the process (SIGSEGV).
    const child = runChild(childScript("hostile.ts"), ["guarded-sources"]);
    assert.equal(
      child.status,
      0,
      `status ${child.status} signal ${child.signal}: ${child.stdout}${child.stderr}`,
    );
    assert(child.stdout.includes("source intact true"), child.stdout);
    assert(child.stdout.includes("copy equal true"), child.stdout);
    assert(child.stdout.includes("slot intact true"), child.stdout);
    assert(child.stdout.includes("ok"), child.stdout);
  },
  { skip: linuxOnly },
);

test("a guarded view's source is left as it was; a heap source is still wiped", () => {
  using source = SecretBuffer.fromHex("aabbcc");
  const copy = source.write((view) => SecretBuffer.from(view));
  assert(source.equals(new Uint8Array([0xaa, 0xbb, 0xcc])));
  assert(copy.equals(source));
  copy.destroy();
  const pool = new SecretPool();
  const slot = pool.from(new Uint8Array([1, 2]));
  const fromSlot = slot.write((view) => SecretBuffer.from(view.subarray(1)));
  assert(slot.equals(new Uint8Array([1, 2])), "the slot was wiped");
  assert(fromSlot.equals(new Uint8Array([2])));
  fromSlot.destroy();
  pool.destroy();
  const heap = new Uint8Array([4, 5]);
  SecretBuffer.from(heap).destroy();
  assert.deepEqual([...heap], [0, 0]);
});
