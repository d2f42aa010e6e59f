/**
 * The built-ins the library trusts (src/core/_intrinsics.ts): what they
 * answer for values that lie about themselves (own properties, subclass
 * getters, Proxies, look-alike objects), and that a patch of a prototype
 * made after import does not reach them (each patch is undone at once).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  bufferOf,
  byteOffsetOf,
  copyInto,
  detachBuffer,
  fillRange,
  isDetached,
  isOwnBuffer,
  isOwnView,
  isShared,
  isUint8Array,
  lengthOf,
  markOwn,
  markOwnView,
  now,
  subarrayOf,
  zero,
} from "../../src/core/_intrinsics.ts";
import { test } from "../_harness.ts";
import { definedWhile as patched } from "../_replaced.ts";
import { childScript, runChild } from "../_child.ts";

const TYPED = Object.getPrototypeOf(Uint8Array.prototype) as object;

class Liar extends Uint8Array {
  override get length(): number {
    return 1 << 30;
  }
  override get byteOffset(): number {
    return 7;
  }
  override get buffer(): ArrayBuffer {
    return new ArrayBuffer(1);
  }
}

test("isUint8Array is true for genuine Uint8Arrays only", () => {
  const real = new Uint8Array(4);
  assert.equal(isUint8Array(real), true);
  assert.equal(isUint8Array(new Liar(4)), true, "a subclass is one");
  assert.equal(isUint8Array(real.subarray(1)), true);
  for (
    const fake of [
      new Proxy(real, {}),
      Object.create(Uint8Array.prototype),
      new Uint8ClampedArray(4),
      new Int8Array(4),
      new DataView(new ArrayBuffer(4)),
      {
        length: 4,
        buffer: new ArrayBuffer(4),
        [Symbol.toStringTag]: "Uint8Array",
      },
      null,
      undefined,
      "Uint8Array",
      4,
    ].entries()
  ) {
    assert.equal(isUint8Array(fake[1]), false, `case ${fake[0]}`);
  }
});

test("length, buffer and offset come from the engine, not from getters or own properties", () => {
  const liar = new Liar(new ArrayBuffer(16), 4, 8);
  assert.equal(lengthOf(liar), 8);
  assert.equal(byteOffsetOf(liar), 4);
  assert.equal(bufferOf(liar).byteLength, 16);
  const owned = new Uint8Array(8);
  Object.defineProperty(owned, "length", { value: 1 << 20 });
  Object.defineProperty(owned, "buffer", { value: new ArrayBuffer(2) });
  assert.equal(lengthOf(owned), 8);
  assert.equal(bufferOf(owned).byteLength, 8);
  patched(TYPED, "length", { get: () => 3 }, () => {
    assert.equal(new Uint8Array(8).length, 3, "the patch is in place");
    assert.equal(lengthOf(new Uint8Array(8)), 8);
  });
});

test("isShared tells SharedArrayBuffers (growable too) from the rest", () => {
  assert.equal(isShared(new SharedArrayBuffer(8)), true);
  assert.equal(
    isShared(new SharedArrayBuffer(8, { maxByteLength: 16 })),
    true,
  );
  assert.equal(isShared(new ArrayBuffer(8)), false);
  assert.equal(isShared(new ArrayBuffer(8, { maxByteLength: 16 })), false);
  const lookalike = Object.create(SharedArrayBuffer.prototype);
  assert.equal(isShared(lookalike), false);
});

test("detachBuffer detaches once and says so; the view then reads nothing", () => {
  const buffer = new ArrayBuffer(8);
  const view = new Uint8Array(buffer);
  view.fill(9);
  assert.equal(isDetached(buffer), false);
  assert.equal(detachBuffer(buffer), true);
  assert.equal(isDetached(buffer), true);
  assert.equal(view.length, 0);
  assert.equal(detachBuffer(buffer), false, "already detached");
  patched(ArrayBuffer.prototype, "transfer", {
    value: () => new ArrayBuffer(0),
  }, () => {
    const other = new ArrayBuffer(4);
    assert.equal(detachBuffer(other), true);
    assert.equal(isDetached(other), true, "the original transfer ran");
  });
});

test("zero, fillRange and copyInto ignore methods replaced on the instance or the prototype", () => {
  const view = new Uint8Array([1, 2, 3, 4, 5, 6]);
  Object.defineProperty(view, "fill", { value: () => view });
  Object.defineProperty(view, "set", { value: () => {} });
  patched(TYPED, "fill", {
    value: function () {
      return this;
    },
  }, () => {
    fillRange(view, 7, 1, 3);
    assert.deepEqual([...view], [1, 7, 7, 4, 5, 6]);
    zero(view);
    assert.deepEqual([...view], [0, 0, 0, 0, 0, 0]);
  });
  patched(TYPED, "set", { value: () => {} }, () => {
    copyInto(view, new Uint8Array([8, 9]), 2);
  });
  assert.deepEqual([...view], [0, 0, 8, 9, 0, 0]);
  const words = new Uint32Array(4);
  fillRange(words, 0xffffffff, 2);
  assert.deepEqual([...words], [0, 0, 0xffffffff, 0xffffffff]);
});

test("subarrayOf makes a plain view over the same memory, clamped, without species or constructor lookups", () => {
  let asked = 0;
  class Species extends Uint8Array {
    static get [Symbol.species](): typeof Uint8Array {
      asked++;
      return Uint8Array;
    }
  }
  const buffer = new ArrayBuffer(16);
  const view = new Species(buffer, 2, 10);
  Object.defineProperty(view, "constructor", {
    get() {
      asked++;
      return Species;
    },
  });
  const part = subarrayOf(view, 3, 6);
  assert.equal(asked, 0);
  assert.equal(Object.getPrototypeOf(part), Uint8Array.prototype);
  assert.equal(part.buffer, buffer);
  assert.equal(part.byteOffset, 5);
  assert.equal(part.length, 3);
  assert.equal(subarrayOf(view, 4).length, 6, "to the end");
  assert.equal(subarrayOf(view, 4, 99).length, 6, "end clamped");
  assert.equal(subarrayOf(view, 8, 3).length, 0, "begin past end");
  const words = subarrayOf(new Uint32Array(8), 2, 5);
  assert.ok(words instanceof Uint32Array);
  assert.equal(words.byteOffset, 8);
  assert.equal(words.length, 3);
});

test("own buffers and views: known by mark, a zero-offset view is never asked for its buffer", () => {
  const buffer = markOwn(new ArrayBuffer(32));
  assert.equal(isOwnBuffer(buffer), true);
  assert.equal(isOwnBuffer(new ArrayBuffer(32)), false);
  const handed = markOwnView(new Uint8Array(buffer));
  assert.equal(isOwnView(handed), true);
  assert.equal(
    isOwnView(new Uint8Array(buffer, 4)),
    true,
    "a view at an offset",
  );
  // A zero-offset view is not marked: telling it would mean asking a small
  // heap array for its buffer, which leaves a copy of its bytes behind.
  assert.equal(isOwnView(new Uint8Array(buffer)), false);
  assert.equal(isOwnView(new Uint8Array(new ArrayBuffer(32), 4)), false);
});

test("now keeps working when performance.now is replaced after import", () => {
  const host = globalThis as unknown as {
    performance: { now: () => number };
  };
  const first = now();
  patched(host.performance, "now", { value: () => 0, writable: true }, () => {
    assert.equal(performance.now(), 0);
    assert.ok(now() >= first && now() > 0);
  });
});

test("afterTurn and afterDelay read the timers at their first use, as they were at load", () => {
  const child = runChild(childScript("lazy_timers.ts"));
  assert.equal(child.status, 0, child.stderr);
  const seen = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
  // Deno's timers are accessors that load a module at the first read:
  // importing must not read them.
  assert.deepEqual(seen.atImport, { setImmediate: 0, setTimeout: 0 });
  // Replaced after import and before the first use: secmem still ran its
  // callbacks by the runtime's own timers, and read each accessor once.
  assert.deepEqual(seen.order, ["turn", "delay"]);
  assert.equal(seen.replacedCalls, 0);
  assert.deepEqual(seen.afterUse, { setImmediate: 1, setTimeout: 1 });
});
