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
import {
  purge,
  SecretBuffer,
  type SecretMemoryError,
  SecretPool,
  stats,
} from "../mod.ts";
import { runDoctor } from "../doctor.ts";
import { findCopies } from "../forensics.ts";
import { test } from "./_harness.ts";
import { definedWhile, replacedWhile } from "./_replaced.ts";
import { childScript, runChild } from "./_child.ts";
import { linuxOnly } from "./_platform.ts";

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
    replacedWhile(
      Set.prototype,
      Symbol.iterator,
      empty,
      () => SecretBuffer.from(view),
    )
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

test("Set.prototype.add replaced to do nothing: a buffer made then is live, and purge() reaches it", () => {
  const before = stats().liveBuffers;
  const secret = replacedWhile(Set.prototype, "add", function (this: unknown) {
    return this;
  }, () => SecretBuffer.from(new Uint8Array(SECRET)));
  // Kept out of the live set, it would outlive purge() with its bytes.
  assert.equal(stats().liveBuffers, before + 1, "not in the live set");
  assert.equal(secret.state, "noaccess");
  purge();
  assert.equal(secret.state, "destroyed", "purge() missed the buffer");
});

test("Set.prototype.add replaced to do nothing: a pool made then is still reached by purge()", () => {
  const pool = replacedWhile(Set.prototype, "add", function (this: unknown) {
    return this;
  }, () => new SecretPool());
  const slot = pool.from(new Uint8Array(SECRET));
  try {
    purge();
    assert.equal(slot.state, "destroyed", "purge() missed the pool");
  } finally {
    pool.destroy();
  }
});

test("Map.prototype.set replaced to do nothing: an arena mapped then is still reached by purge()", () => {
  const pool = new SecretPool();
  const slot = replacedWhile(Map.prototype, "set", function (this: unknown) {
    return this;
  }, () => pool.from(new Uint8Array(SECRET)));
  try {
    purge();
    assert.equal(slot.state, "destroyed", "purge() missed the arena");
  } finally {
    pool.destroy();
  }
});

test("a Set iterator replaced to yield an arena of its own: no slot is asked of it", () => {
  const pool = new SecretPool();
  let asked = 0;
  // Would be handed the next slot, and so the secret put in it.
  const theirs = {
    full: false,
    take(): never {
      asked++;
      throw new Error("taken by the replacement");
    },
  };
  try {
    // Enough slots to fill an arena: the next one is picked from the
    // pool's open arenas, a Set.
    const last = replacedWhile(Set.prototype, Symbol.iterator, function* () {
      yield theirs;
    }, () => {
      for (let i = 0; i < 4096; i++) pool.alloc(16);
      return pool.from(new Uint8Array(SECRET));
    });
    assert.equal(asked, 0, "a made-up arena was asked for a slot");
    assert(last.equals(new Uint8Array(SECRET)));
  } finally {
    pool.destroy();
  }
});

test("Array.prototype.push replaced to do nothing while the first pool slot is made: purge() still reaches it", () => {
  // The pools' purge hook is added once per process, with the first arena.
  const child = runChild(childScript("first_pool_push.ts"), []);
  const detail =
    `status ${child.status} signal ${child.signal}: ${child.stdout}${child.stderr}`;
  assert.equal(child.status, 0, detail);
  assert.equal(child.stdout.trim(), "state destroyed", detail);
});

test("a setter planted on Array.prototype[0] after import: purge() still reaches every buffer and pool slot", () => {
  const secret = SecretBuffer.from(new Uint8Array(SECRET));
  const pool = new SecretPool();
  const slot = pool.from(new Uint8Array(SECRET));
  // An array's element 0 that is not yet its own goes to the setter.
  Object.defineProperty(Array.prototype, "0", {
    set() {},
    configurable: true,
  });
  try {
    purge();
  } finally {
    delete (Array.prototype as unknown as Record<string, unknown>)[0];
  }
  try {
    assert.equal(secret.state, "destroyed", "purge() missed the buffer");
    assert.equal(slot.state, "destroyed", "purge() missed the pool slot");
  } finally {
    pool.destroy();
  }
});

test(
  "setters planted on Array.prototype[0] and [1]: runDoctor lists every check, findCopies still counts a heap copy",
  () => {
    const honest = runDoctor().checks.length;
    using key = SecretBuffer.random(32);
    // A copy over its own ArrayBuffer, which no runtime's GC moves.
    const copy = new Uint8Array(new ArrayBuffer(32));
    key.read((bytes) => copy.set(bytes));
    const dropping = { set() {} };
    let checks: number;
    let copies: number | string;
    try {
      [checks, copies] = definedWhile(
        Array.prototype,
        "0",
        dropping,
        () =>
          definedWhile(Array.prototype, "1", dropping, () => {
            const count = runDoctor().checks.length;
            try {
              return [count, findCopies(key).copies];
            } catch (error) {
              // A refusal is honest; a count must include the copy.
              return [count, (error as SecretMemoryError).code];
            }
          }),
      );
    } finally {
      copy.fill(0);
    }
    assert.equal(checks, honest, "a check was dropped");
    if (typeof copies === "number") assert.ok(copies >= 1, `found ${copies}`);
  },
  { skip: linuxOnly },
);
