/**
 * Set and Map methods and iterators replaced after the library's import
 * must not hide a view lent to outside code, keep a buffer out of what
 * purge() wipes, or reach a secret. The library keeps such bookkeeping
 * in Sets and Maps it reads at call time; a caller that patches their
 * prototypes later must find those reads going by the intrinsics.
 * Checked by outcome: the secret's bytes, a purge that reaches the
 * buffer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer } from "../mod.ts";
import { test } from "./_harness.ts";
import { childScript, runChild } from "./_child.ts";
import { linuxOnly } from "./_platform.ts";

/** `fn()` with `key` of `Set.prototype` set to `value`, put back after. */
function replacedSet<T>(key: PropertyKey, value: unknown, fn: () => T): T {
  const proto = Set.prototype as unknown as Record<PropertyKey, unknown>;
  const saved = Object.getOwnPropertyDescriptor(proto, key)!;
  Object.defineProperty(proto, key, {
    value,
    writable: true,
    configurable: true,
  });
  try {
    return fn();
  } finally {
    Object.defineProperty(proto, key, saved);
  }
}

/** A file object whose one read writes `bytes` and then runs `inside`. */
function oneRead(bytes: number[], inside: (view: Uint8Array) => void) {
  let done = false;
  return {
    read: (view: Uint8Array) => {
      if (done) return Promise.resolve(null);
      done = true;
      view.set(bytes);
      inside(view.subarray(0, bytes.length));
      return Promise.resolve(bytes.length);
    },
    write: () => Promise.resolve(0),
  };
}

const SECRET = [9, 8, 7, 6, 5, 4, 3, 2];

test("a Set iterator replaced to yield nothing: from() of a lent view copies it and leaves the secret in place", async () => {
  const empty = function* () {};
  const secret = await SecretBuffer.fromFd(oneRead(SECRET, (view) => {
    // The view is lent (a loan on the open mapping): from() must tell it
    // from a caller's array and not wipe it.
    replacedSet(Symbol.iterator, empty, () => SecretBuffer.from(view))
      .destroy();
  }));
  try {
    assert(secret.equals(new Uint8Array(SECRET)), "the lent bytes were wiped");
  } finally {
    secret.destroy();
  }
});

test(
  "a Set iterator replaced to yield nothing: a view kept over a quarantined pool slot is copied, never wiped, in a neighbour's read scope",
  () => {
    // Wiping it would write a read-only page: the child would die.
    const child = runChild(childScript("quarantined_slot_source.ts"), [
      "read",
      "hidden",
    ]);
    const detail =
      `status ${child.status} signal ${child.signal}: ${child.stdout}${child.stderr}`;
    assert.equal(child.status, 0, detail);
    assert.deepEqual(
      child.stdout.split("\n").filter((line) => line.startsWith("copied")),
      ["copied 16", "copied 16", "copied 13", "copied 13"],
      detail,
    );
    assert(child.stdout.includes("neighbour intact true"), detail);
  },
  { skip: linuxOnly },
);
