/**
 * Tests for copying between guarded buffers: `from(SecretBuffer)`,
 * `slice` and `copyTo`.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import { test } from "../_harness.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "../_error_code.ts";

test("from(SecretBuffer) copies and leaves the source usable", () => {
  using source = SecretBuffer.random(300);
  using copy = SecretBuffer.from(source);
  assert(copy.equals(source), "copy differs");
  assert(copy.address !== source.address, "the copy has its own pages");
  assert.deepEqual(source.state, "noaccess");
  assert.deepEqual(copy.state, "noaccess");
  source.write((bytes) => bytes.fill(1));
  assert(!copy.equals(source), "the copy followed the source");
});

test("from(SecretBuffer) takes placement and refuses a destroyed source", () => {
  using source = SecretBuffer.fromHex("0102");
  using aligned = SecretBuffer.from(source, { placement: "start" });
  assert.deepEqual(aligned.address % 4096n, 0n);
  assert(aligned.equals(new Uint8Array([1, 2])));
  const gone = SecretBuffer.random(4);
  gone.destroy();
  const before = stats();
  assertThrowsCode(() => SecretBuffer.from(gone), "DESTROYED");
  assert.deepEqual(stats(), before);
});

test("slice copies a range, defaults to the whole buffer", () => {
  using whole = SecretBuffer.fromHex("00112233445566");
  using middle = whole.slice(2, 5);
  assert(middle.equals(new Uint8Array([0x22, 0x33, 0x44])));
  using tail = whole.slice(5);
  assert(tail.equals(new Uint8Array([0x55, 0x66])));
  using all = whole.slice();
  assert(all.equals(whole));
  using none = whole.slice(3, 3);
  assert.deepEqual(none.size, 0);
});

test("slice refuses ranges outside the buffer", () => {
  using whole = SecretBuffer.alloc(4);
  const before = stats();
  for (const [start, end] of [[-1, 2], [0, 5], [3, 2], [1.5, 2], [0, NaN]]) {
    assertThrowsCode(
      () => whole.slice(start, end),
      "INVALID_ARGUMENT",
      `${start}..${end}`,
    );
  }
  assert.deepEqual(stats(), before);
});

test("copyTo writes at an offset and refuses what does not fit", () => {
  using part = SecretBuffer.fromHex("aabb");
  using whole = SecretBuffer.alloc(5);
  assert.deepEqual(part.copyTo(whole, 3), 2);
  assert(whole.equals(new Uint8Array([0, 0, 0, 0xaa, 0xbb])));
  assertThrowsCode(() => part.copyTo(whole, 4), "INVALID_ARGUMENT");
  assertThrowsCode(
    () => part.copyTo(new Uint8Array(4) as unknown as SecretBuffer),
    "INVALID_ARGUMENT",
  );
  assert.deepEqual(whole.copyTo(whole), 5, "onto itself changes nothing");
});
