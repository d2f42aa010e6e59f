/**
 * Evidence that what secmem throws away it wipes first: the half-written
 * pages of a failed hex or base64 decode, and the outgrown buffers of input
 * that grows by doubling. A process cannot scan pages it has unmapped, so
 * the check runs on the fake native layer, which keeps every page's bytes:
 * each range is read at the moment it is released and must be all zeros.
 * On the real layer, the growth itself is observed between the chunks of a
 * stream: one live buffer at a time, its size doubling.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, stats } from "../mod.ts";
import { useNativeForTesting } from "../src/core/_native.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { createFake } from "./_fake_native.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface Released {
  length: number;
  nonZero: number;
}

/** Runs `body` on the fake layer; returns what each release held. */
async function releasedDuring(
  body: () => void | Promise<void>,
): Promise<Released[]> {
  const fake = createFake();
  const released: Released[] = [];
  useNativeForTesting({
    ...fake.memory,
    release(address, length) {
      const bytes = fake.peek(address, length);
      released.push({
        length,
        nonZero: bytes.reduce((n, b) => n + (b === 0 ? 0 : 1), 0),
      });
      fake.memory.release(address, length);
    },
  });
  let baseline: number;
  try {
    // Warm up what the core keeps mapped once made (the canary pool).
    SecretBuffer.alloc(1).destroy();
    baseline = fake.mapped();
    released.length = 0;
    await body();
  } finally {
    useNativeForTesting(undefined);
  }
  assert.equal(fake.mapped(), baseline, "something was left mapped");
  return released;
}

/** 48 bytes of 0xa5, in hex (base64: "paWl" × 16). */
const MARK = "a5".repeat(48);

test("a failed fromHex wipes the bytes it had decoded before unmapping", async () => {
  const released = await releasedDuring(() => {
    assertThrowsCode(
      () => SecretBuffer.fromHex(`${MARK}zz`),
      "INVALID_ARGUMENT",
    );
  });
  assert(released.length >= 1, "the half-written buffer was never released");
  assert.deepEqual(released.filter((r) => r.nonZero > 0), []);
});

test("a failed fromBase64 wipes the bytes it had decoded before unmapping", async () => {
  const released = await releasedDuring(() => {
    assertThrowsCode(
      () => SecretBuffer.fromBase64(`${"paWl".repeat(16)}!!!!`),
      "INVALID_ARGUMENT",
    );
  });
  assert(released.length >= 1, "the half-written buffer was never released");
  assert.deepEqual(released.filter((r) => r.nonZero > 0), []);
});

for (
  const [name, decode] of [
    ["fromHex", () => SecretBuffer.fromHex(`${MARK}zz`)],
    ["fromBase64", () => SecretBuffer.fromBase64(`${"paWl".repeat(16)}!!!!`)],
  ] as const
) {
  test(`the control: with wipe disabled, a failed ${name}'s bytes are seen at release`, () => {
    // The decoded bytes did land in the pages, and the check can see them:
    // so the zeros above are the wipe's doing.
    const fake = createFake();
    let marked = 0;
    useNativeForTesting({
      ...fake.memory,
      wipe() {},
      release(address, length) {
        marked += fake.peek(address, length).filter((b) => b === 0xa5).length;
        fake.memory.release(address, length);
      },
    });
    try {
      SecretBuffer.alloc(1).destroy();
      marked = 0;
      assertThrowsCode(decode, "INVALID_ARGUMENT");
    } finally {
      useNativeForTesting(undefined);
    }
    assert(marked >= 48, `only ${marked} of the 48 decoded bytes seen`);
  });
}

/** 40 chunks of 1 KiB, each marked: input that must grow several times. */
async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 40; i++) yield new Uint8Array(1024).fill(0xa5);
}

test("growing input: every outgrown buffer is wiped before it is unmapped", async () => {
  let result: SecretBuffer | undefined;
  const released = await releasedDuring(async () => {
    result = await SecretBuffer.fromStream(chunks());
    assert.equal(result.size, 40 * 1024);
    result.destroy();
  });
  // The first buffer (one page), then each doubling, then the result.
  assert(released.length >= 4, `only ${released.length} releases`);
  assert.deepEqual(released.filter((r) => r.nonZero > 0), []);
});

test("growing input: one buffer at a time, each twice the last", async () => {
  const before = stats();
  const seen: { live: number; size: number }[] = [];
  async function* observed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks()) {
      const now = stats();
      seen.push({
        live: now.liveBuffers - before.liveBuffers,
        size: now.userBytes - before.userBytes,
      });
      yield chunk;
    }
  }
  using result = await SecretBuffer.fromStream(observed());
  assert.equal(result.size, 40 * 1024);
  const sizes = [...new Set(seen.map((s) => s.size))];
  console.log(`    buffer sizes while reading: ${sizes.join(", ")} bytes`);
  assert.deepEqual(new Set(seen.map((s) => s.live)), new Set([1]));
  assert(sizes.length >= 4, `sizes ${sizes}`);
  for (let i = 1; i < sizes.length; i++) {
    assert.equal(sizes[i], 2 * sizes[i - 1], `sizes ${sizes}`);
  }
}, { skip: linuxOnly });
