/**
 * Reading a callback's result as a promise (src/core/_thenable.ts): `then`
 * is read exactly once, so a getter that changes its answer, or throws,
 * cannot make a scope close at the wrong moment.
 *
 * @module
 */

import assert from "node:assert/strict";
import { settle, thenOf } from "../../src/core/_thenable.ts";
import { test } from "../_harness.ts";

test("thenOf: plain values and objects without a callable then are not thenables", () => {
  for (const value of [undefined, null, 0, "then", true, 1n, Symbol("s")]) {
    assert.equal(thenOf(value), undefined);
  }
  assert.equal(thenOf({}), undefined);
  assert.equal(thenOf({ then: 1 }), undefined);
  assert.equal(typeof thenOf(Promise.resolve(1)), "function");
  const fn = Object.assign(() => {}, { then: () => {} });
  assert.equal(thenOf(fn), fn.then, "a function may be a thenable");
});

test("a then getter runs once, and its first answer is the one used", async () => {
  let reads = 0;
  const value = {
    get then() {
      reads++;
      return reads === 1
        ? (resolve: (v: unknown) => void) => resolve("first")
        : undefined;
    },
  };
  const then = thenOf(value);
  assert.equal(reads, 1);
  assert.ok(then !== undefined);
  assert.equal(await settle(value, then), "first");
  assert.equal(reads, 1, "settle does not read then again");
});

test("a then getter that throws propagates from thenOf", () => {
  const value = {
    get then(): never {
      throw new Error("boom");
    },
  };
  assert.throws(() => thenOf(value), /boom/);
});

test("settle follows the thenable: rejects with its reason, and with what its then throws", async () => {
  const rejecting = {
    then: (_: unknown, reject: (e: unknown) => void) => reject(new Error("no")),
  };
  await assert.rejects(settle(rejecting, thenOf(rejecting)!), /no/);
  const throwing = {
    then: () => {
      throw new Error("thrown");
    },
  };
  await assert.rejects(settle(throwing, thenOf(throwing)!), /thrown/);
  let self: unknown;
  const receiver = {
    then(this: unknown, resolve: (v: unknown) => void) {
      self = this;
      resolve(2);
    },
  };
  assert.equal(await settle(receiver, thenOf(receiver)!), 2);
  assert.equal(self, receiver, "called on the value");
});
