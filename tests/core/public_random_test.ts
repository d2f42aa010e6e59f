/**
 * Public randomness (src/core/_public_random.ts) against a fake native
 * layer: it comes from the OS generator through a mapping that is released
 * after each refill, fills a view whatever length it claims, and leaves
 * nothing mapped when the generator fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { publicRandom } from "../../src/core/_public_random.ts";
import { withFakeNative } from "../_fake_native.ts";
import { test } from "../_harness.ts";
import { definedWhile } from "../_replaced.ts";

// More than any page size the pool could hold bytes of from an earlier
// native layer: the last page of such a request comes from the fake.
const DRAIN = 256 * 1024;
const PAGE = 4096;

test("bytes come from the OS generator, a page at a time, and nothing stays mapped", () => {
  withFakeNative({}, (fake) => {
    const before = fake.mapped();
    const view = publicRandom(new Uint8Array(DRAIN));
    // The fake's generator never gives a zero byte.
    assert(view.subarray(DRAIN - PAGE).every((byte) => byte !== 0));
    const fills = fake.calls.filter((call) => call === "fillRandom").length;
    assert(fills >= DRAIN / PAGE - 16, `${fills} fills for ${DRAIN} bytes`);
    assert(fills <= DRAIN / PAGE + 1, `${fills} fills for ${DRAIN} bytes`);
    assert.equal(fake.mapped(), before, "a refill's page stayed mapped");
    fake.calls.length = 0;
    // Nonces are served from the pool: 100 of them (2,400 bytes) need one
    // refill at most.
    for (let i = 0; i < 100; i++) publicRandom(new Uint8Array(24));
    assert(
      fake.calls.filter((call) => call === "fillRandom").length <= 1,
      fake.calls.join(),
    );
  });
});

test("two requests never share bytes", () => {
  withFakeNative({}, () => {
    publicRandom(new Uint8Array(DRAIN));
    const first = publicRandom(new Uint8Array(32));
    const second = publicRandom(new Uint8Array(32));
    assert.notDeepEqual(first, second);
  });
});

test("an own length property cannot leave bytes unfilled", () => {
  withFakeNative({}, () => {
    publicRandom(new Uint8Array(DRAIN));
    const view = new Uint8Array(64);
    Object.defineProperty(view, "length", { value: 1 });
    publicRandom(view);
    assert(new Uint8Array(view.buffer).every((byte) => byte !== 0));
  });
});

test("a generator that fails throws, and leaves nothing mapped", () => {
  withFakeNative({ failOn: { name: "fillRandom", nth: 1 } }, (fake) => {
    const before = fake.mapped();
    assert.throws(
      () => publicRandom(new Uint8Array(DRAIN)),
      /failed on purpose/,
    );
    assert.equal(fake.mapped(), before);
    // The next refill works.
    const view = publicRandom(new Uint8Array(DRAIN));
    assert(view.subarray(DRAIN - PAGE).every((byte) => byte !== 0));
  });
});

test("a crypto.getRandomValues replaced at any time is never called", () => {
  withFakeNative({}, () => {
    let called = 0;
    definedWhile(globalThis.crypto, "getRandomValues", {
      value: <T>(view: T) => {
        called++;
        return view;
      },
      writable: true,
    }, () => {
      const view = publicRandom(new Uint8Array(DRAIN));
      assert(view.subarray(DRAIN - PAGE).every((byte) => byte !== 0));
    });
    assert.equal(called, 0);
  });
});
