/**
 * Tests for decoding hex, base64 and text straight into guarded pages.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { SecretBuffer, stats } from "../../mod.ts";
import { test } from "../_harness.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "../_error_code.ts";

function contents(buffer: SecretBuffer): number[] {
  return buffer.read((bytes) => Array.from(bytes));
}

/** Test data from Math.random: varied, and not secret. */
function sample(length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(Math.random() * 256));
}

test("fromHex decodes upper and lower case", () => {
  using key = SecretBuffer.fromHex("00ffA0bC19");
  assert.deepEqual(contents(key), [0x00, 0xff, 0xa0, 0xbc, 0x19]);
  using empty = SecretBuffer.fromHex("");
  assert.deepEqual(empty.size, 0);
});

test("fromHex agrees with Buffer for every byte value and random input", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const bytes of [all, sample(1000), sample(1)]) {
    const hex = Buffer.from(bytes).toString("hex");
    using lower = SecretBuffer.fromHex(hex);
    using upper = SecretBuffer.fromHex(hex.toUpperCase());
    assert(lower.equals(bytes), "lower-case hex differs");
    assert(upper.equals(bytes), "upper-case hex differs");
  }
});

test("fromHex refuses bad input and leaves nothing mapped", () => {
  const before = stats();
  for (
    const bad of ["0", "abc", "0g", "g0", "zz", " 00", "00 ", "0x00", "é0"]
  ) {
    assertThrowsCode(() => SecretBuffer.fromHex(bad), "INVALID_ARGUMENT", bad);
  }
  assertThrowsCode(
    () => SecretBuffer.fromHex(7 as unknown as string),
    "INVALID_ARGUMENT",
  );
  assert.deepEqual(stats(), before);
});

test("fromBase64 agrees with Buffer, padded, unpadded and URL-safe", () => {
  for (let length = 0; length < 40; length++) {
    const bytes = sample(length);
    const padded = Buffer.from(bytes).toString("base64");
    const url = Buffer.from(bytes).toString("base64url");
    using fromPadded = SecretBuffer.fromBase64(padded);
    using fromBare = SecretBuffer.fromBase64(padded.replace(/=+$/, ""));
    using fromUrl = SecretBuffer.fromBase64(url);
    assert(fromPadded.equals(bytes), `padded, ${length} bytes`);
    assert(fromBare.equals(bytes), `unpadded, ${length} bytes`);
    assert(fromUrl.equals(bytes), `URL-safe, ${length} bytes`);
  }
});

test("fromBase64 refuses bad input and leaves nothing mapped", () => {
  const before = stats();
  const bad = [
    "A", // one character cannot make a byte
    "AQ=", // padded but not a whole quad
    "AQ===", // too much padding
    "AR==", // unused bits not zero
    "A*==",
    "AQID\n",
    " AQID",
    "AQ=D",
  ];
  for (const text of bad) {
    assertThrowsCode(
      () => SecretBuffer.fromBase64(text),
      "INVALID_ARGUMENT",
      JSON.stringify(text),
    );
  }
  assert.deepEqual(stats(), before);
});

test("fromText writes UTF-8 as TextEncoder does, surrogates included", () => {
  const texts = [
    "",
    "plain",
    "héllo",
    "€uro",
    "😀 emoji",
    "\ud800 lone",
    "end \udfff",
  ];
  for (const text of texts) {
    using buffer = SecretBuffer.fromText(text);
    const expected = new TextEncoder().encode(text);
    assert.deepEqual(buffer.size, expected.length, JSON.stringify(text));
    assert(buffer.equals(expected), JSON.stringify(text));
  }
});
