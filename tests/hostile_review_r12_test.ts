/**
 * Review r12: public randomness (src/core/_public_random.ts) against
 * built-ins replaced after import. A nonce must never be chosen by other
 * code, nor repeat, whatever it replaced; and the macOS generator loop
 * must not be steered by a replaced `Math.min`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretMemoryError } from "../mod.ts";
import { encrypt } from "../crypto.ts";
import { createDarwinMemory } from "../ffi/darwin_memory.ts";
import { createFakeDarwin } from "./_fake_darwin.ts";
import { test } from "./_harness.ts";
import { definedWhile, replacedWhile } from "./_replaced.ts";

const NONCE = 24;
// More nonces than a 64 KiB page holds: the pool is refilled (or runs out)
// on every page size there is.
const COUNT = (64 * 1024) / NONCE + 16;

function nonceOf(message: Uint8Array): string {
  return Array.from(message.slice(0, NONCE)).join(",");
}

// Made before any replacement.
const plaintext = new Uint8Array([1, 2, 3]);

function nonces(key: SecretBuffer, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(nonceOf(encrypt(key, plaintext)));
  return out;
}

function assertFresh(seen: string[], why: string): void {
  const zero = new Array(NONCE).fill(0).join(",");
  assert.equal(seen.filter((n) => n === zero).length, 0, `${why}: zero nonces`);
  assert.equal(new Set(seen).size, seen.length, `${why}: a nonce repeated`);
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const realLength = Object.getOwnPropertyDescriptor(
  TypedArrayPrototype,
  "length",
)!.get!;

test("r12: a replaced TypedArray length getter cannot make encrypt's nonces repeat, then or later", () => {
  const key = SecretBuffer.random(32);
  try {
    // Lies only for the sizes the pool can have (empty, or a page).
    const lying = definedWhile(TypedArrayPrototype, "length", {
      get(this: Uint8Array) {
        const n = Reflect.apply(realLength, this, []) as number;
        return n === 0 || n === 4096 || n === 16384 || n === 65536 ? 1e9 : n;
      },
    }, () => nonces(key, COUNT));
    assertFresh(lying, "while the getter lied");
    // Put back, the pool must still serve fresh bytes.
    assertFresh(nonces(key, COUNT), "after the getter was put back");
  } finally {
    key.destroy();
  }
});

test("r12: a replaced global Uint8Array is not handed the random page, and cannot choose nonces", () => {
  const key = SecretBuffer.random(32);
  const Real = Uint8Array;
  let handed = 0;
  try {
    const chosen = new Real(NONCE).fill(7).join(",");
    const seen = replacedWhile(
      globalThis,
      "Uint8Array",
      new Proxy(Real, {
        construct(target, args, newTarget) {
          const first = args[0];
          if (first instanceof ArrayBuffer && first.byteLength >= 4096) {
            // Writes the bytes it would like served.
            new Real(first).fill(7);
            handed++;
          }
          return Reflect.construct(target, args, newTarget);
        },
      }),
      () => nonces(key, COUNT),
    );
    assert.equal(seen.filter((n) => n === chosen).length, 0, "chosen nonces");
    assertFresh(seen, "under the replaced constructor");
    assert.equal(handed, 0, "a page-sized buffer was handed to the global");
  } finally {
    key.destroy();
  }
});

test("r12: macOS fillRandom is not steered by a replaced Math.min", () => {
  const fake = createFakeDarwin({});
  const memory = createDarwinMemory(fake.adapter, "arm64");
  assert.equal(memory.selfTest().passed, true);
  const page = memory.pageSize;
  const base = memory.reserve(3 * page);
  const data = base + BigInt(page);
  memory.commit(data, page, true);
  try {
    const before = fake.named("getentropy").length;
    // Would loop for ever (a chunk of 0) on a call-time Math.min.
    let calls = 0;
    replacedWhile(Math, "min", () => {
      if (++calls > 100) {
        throw new SecretMemoryError("OS_ERROR", "the loop was steered");
      }
      return 0;
    }, () => memory.fillRandom(data, 1000));
    const sizes = fake.named("getentropy").slice(before).map((c) => c.args[1]);
    assert.deepEqual(sizes, [256, 256, 256, 232]);
  } finally {
    memory.release(base, 3 * page);
  }
});
