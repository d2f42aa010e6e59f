/**
 * No copy left behind: a key made by `SecretBuffer.random` is searched for
 * in every present page of this process after destroy, next to a heap
 * control that must be found (proof that the scan can see).
 *
 * @module
 */

import { SecretBuffer } from "../mod.ts";
import { needleOf } from "./_forensics.ts";
import { scanMemory } from "../src/doctor/_scan.ts";
import assert from "node:assert/strict";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test(
  "a random(32) key is found 0 times after destroy; a heap control is found",
  () => {
    const key = SecretBuffer.random(32);
    const needle = needleOf(key);
    const address = key.address;
    const atRest = scanMemory(needle);
    assert.deepEqual(
      atRest.hits,
      [address],
      "at rest, found exactly once: inside the buffer",
    );
    key.destroy();
    const after = scanMemory(needle);
    const control = new Uint8Array(32);
    for (let i = 0; i < 32; i++) control[i] = (i * 73 + 19) & 0xff;
    const seen = scanMemory(needleOf(control));
    console.log(
      `[${runtime}]   after destroy: ${after.hits.length} copies in ${
        (after.bytesScanned / 2 ** 20).toFixed(1)
      } MiB; heap control found ${seen.hits.length}x`,
    );
    assert(
      seen.hits.length > 0,
      "the heap control must be found, or the scan proves nothing",
    );
    assert.deepEqual(after.hits.length, 0, "copies of the key after destroy");
  },
  { skip: linuxOnly },
);

test("a key copied in with from() is found 0 times after destroy", () => {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = (i * 29 + 101) & 0xff;
  const needle = needleOf(bytes);
  const key = SecretBuffer.from(bytes);
  assert(bytes.every((b) => b === 0), "source wiped");
  assert.deepEqual(scanMemory(needle).hits, [key.address]);
  key.destroy();
  assert.deepEqual(scanMemory(needle).hits.length, 0);
}, { skip: linuxOnly });
