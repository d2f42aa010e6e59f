/**
 * `findCopies` from `./forensics`: it finds heap copies, leaves the
 * secret's own pages out, holds no copy of its own, refuses bad input,
 * and refuses off Linux.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretPool, stats } from "../mod.ts";
import { findCopies } from "../forensics.ts";
import { native, useNativeForTesting } from "../src/core/_native.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

test(
  "findCopies: 0 for a fresh key, then the heap copy a caller made, at its address",
  () => {
    using key = SecretBuffer.random(32);
    const clean = findCopies(key);
    assert.equal(clean.copies, 0);
    assert.deepEqual(clean.addresses, []);
    assert(clean.scannedBytes > 1 << 20, "it read the process's pages");
    // findCopies itself left nothing behind.
    assert.equal(findCopies(key).copies, 0, "a second scan still sees none");
    // A copy over its own ArrayBuffer, which no runtime's GC moves (a small
    // slice() can be moved, leaving an unwiped copy behind: a real leak,
    // but not this test's subject).
    const copy = new Uint8Array(new ArrayBuffer(32));
    key.read((bytes) => copy.set(bytes));
    const found = findCopies(key);
    assert(found.copies >= 1, `found ${found.copies}`);
    assert.equal(found.addresses.length, found.copies);
    assert.equal(typeof found.addresses[0], "bigint");
    const start = key.address;
    const end = start + 32n;
    assert(
      found.addresses.every((a) => a < start || a >= end),
      "the key's own page is left out",
    );
    // Leaving the copy's address out too gives 0 again.
    const excluded = findCopies(key, {
      exclude: found.addresses.map((a) => [a, a + 32n] as const),
    });
    assert.equal(excluded.copies, 0);
    copy.fill(0);
    assert.equal(findCopies(key).copies, 0, "the wiped copy is gone");
  },
  { skip: linuxOnly },
);

test("findCopies on a plain Uint8Array counts the array itself", () => {
  const secret = new Uint8Array(24).map((_, i) => (i * 97 + 13) & 0xff);
  assert(findCopies(secret).copies >= 1);
}, { skip: linuxOnly });

test("findCopies: bad input is refused, nothing mapped", () => {
  const before = stats();
  using short = SecretBuffer.random(7);
  assertThrowsCode(() => findCopies(short), "INVALID_ARGUMENT");
  assertThrowsCode(() => findCopies(new Uint8Array(4)), "INVALID_ARGUMENT");
  const gone = SecretBuffer.random(32);
  gone.destroy();
  assertThrowsCode(() => findCopies(gone), "DESTROYED");
  for (const bad of ["text", 3, null, [1, 2, 3, 4, 5, 6, 7, 8]]) {
    assertThrowsCode(() => findCopies(bad as Any), "INVALID_ARGUMENT");
  }
  using key = SecretBuffer.random(32);
  for (const exclude of [5, [[1, 2]], [[2n, 1n]], [[1n]], "x"]) {
    assertThrowsCode(
      () => findCopies(key, { exclude: exclude as Any }),
      "INVALID_ARGUMENT",
    );
  }
  assertThrowsCode(
    () => findCopies(key, { other: 1 } as Any),
    "INVALID_ARGUMENT",
  );
  short.destroy();
  key.destroy();
  assert.deepEqual(stats(), before);
}, { skip: linuxOnly });

test("findCopies off Linux: UNSUPPORTED_PLATFORM", () => {
  const real = native();
  useNativeForTesting(
    new Proxy(real, {
      get: (target, key) => key === "os" ? "darwin" : Reflect.get(target, key),
    }),
  );
  try {
    const error = assertThrowsCode(
      () => findCopies(new Uint8Array(16)),
      "UNSUPPORTED_PLATFORM",
    );
    assert.match(error.message, /Linux/);
  } finally {
    useNativeForTesting(undefined);
  }
});

test(
  "findCopies never looks inside guarded memory: another secret's pages at rest are left out",
  () => {
    // A victim at rest, in a buffer and in a pool slot, and a needle that
    // equals it: before, each scan reported a hit inside the victim's
    // noaccess pages, so a needle of known bytes plus one guess read a
    // secret at rest byte by byte.
    const bytes = new Uint8Array(24).map((_, i) => (i * 31 + 7) & 0xff);
    using victim = SecretBuffer.from(bytes.slice());
    const pool = new SecretPool();
    const slot = pool.from(bytes.slice());
    try {
      assert.equal(victim.state, "noaccess");
      const report = findCopies(bytes);
      for (const address of report.addresses) {
        assert(
          address < victim.address || address >= victim.address + 24n,
          "a hit inside the buffer's pages",
        );
        assert(
          address < slot.address || address >= slot.address + 24n,
          "a hit inside the slot's pages",
        );
      }
      // The caller's own array is found: it is on the heap.
      assert(report.copies >= 1);
    } finally {
      slot.destroy();
      pool.destroy();
    }
  },
  { skip: linuxOnly },
);

test(
  "findCopies goes by the array's real length, not an own length property",
  () => {
    const secret = new Uint8Array(12).map((_, i) => (i * 53 + 11) & 0xff);
    Object.defineProperty(secret, "length", { value: 2 ** 31 });
    const report = findCopies(secret);
    assert(report.copies >= 1, "the array itself is a copy of its 12 bytes");
  },
  { skip: linuxOnly },
);
