/**
 * Reading a callback's result as a promise (src/core/_thenable.ts): `then`
 * is read exactly once, so a getter that changes its answer, or throws,
 * cannot make a scope close at the wrong moment; the close runs once, over
 * built-ins taken at load.
 *
 * @module
 */

import assert from "node:assert/strict";
import { settleThen, thenOf } from "../../src/core/_thenable.ts";
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
  assert.equal(await settleThen(value, then, () => {}), "first");
  assert.equal(reads, 1, "settleThen does not read then again");
});

test("a then getter that throws propagates from thenOf", () => {
  const value = {
    get then(): never {
      throw new Error("boom");
    },
  };
  assert.throws(() => thenOf(value), /boom/);
});

test("settleThen follows the thenable: rejects with its reason, and with what its then throws", async () => {
  const rejecting = {
    then: (_: unknown, reject: (e: unknown) => void) => reject(new Error("no")),
  };
  await assert.rejects(
    settleThen(rejecting, thenOf(rejecting)!, () => {}),
    /no/,
  );
  const throwing = {
    then: () => {
      throw new Error("thrown");
    },
  };
  await assert.rejects(
    settleThen(throwing, thenOf(throwing)!, () => {}),
    /thrown/,
  );
  let self: unknown;
  const receiver = {
    then(this: unknown, resolve: (v: unknown) => void) {
      self = this;
      resolve(2);
    },
  };
  assert.equal(await settleThen(receiver, thenOf(receiver)!, () => {}), 2);
  assert.equal(self, receiver, "called on the value");
});

test("settleThen runs its close once, before the promise settles, however often the thenable calls back", async () => {
  const order: string[] = [];
  const twice = {
    then(resolve: (v: unknown) => void, reject: (e: unknown) => void) {
      resolve(1);
      resolve(2);
      reject(new Error("late"));
      throw new Error("later still");
    },
  };
  const settled = settleThen(twice, thenOf(twice)!, () => order.push("close"));
  assert.deepEqual(order, ["close"], "closed at the first call back");
  assert.equal(await settled, 1);
  assert.deepEqual(order, ["close"]);
});

test("settleThen: a close that throws rejects with its error", async () => {
  const boom = new Error("close failed");
  await assert.rejects(
    settleThen(Promise.resolve(1), thenOf(Promise.resolve(1))!, () => {
      throw boom;
    }),
    (e) => e === boom,
  );
});

test("settleThen follows a native promise by the then taken at load", async () => {
  let calls = 0;
  const promise = Promise.resolve(5);
  // A then that never calls back, as a replaced Promise.prototype.then may be.
  const silent = () => {
    calls++;
  };
  let closed = 0;
  assert.equal(await settleThen(promise, silent, () => closed++), 5);
  assert.equal(closed, 1);
  assert.equal(calls, 0, "the value's then was not asked");
});

test("settleThen follows a thenable called back with, once, and runs after only when it settles", async () => {
  const order: string[] = [];
  let release!: (value: string) => void;
  const inner = new Promise<string>((resolve) => release = resolve);
  const outer = {
    then(resolve: (v: unknown) => void, reject: (e: unknown) => void) {
      resolve(inner);
      resolve("second call, ignored");
      reject(new Error("after the first call, ignored"));
      throw new Error("thrown after calling back, ignored");
    },
  };
  // A then replaced on the inner (native) promise's prototype while it is
  // followed cannot hold the close back.
  const saved = Promise.prototype.then;
  Promise.prototype.then = function (this: unknown) {
    return this;
  } as typeof saved;
  let settled: Promise<unknown>;
  try {
    settled = settleThen(outer, thenOf(outer)!, () => order.push("after"));
  } finally {
    Promise.prototype.then = saved;
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(order, [], "not closed while the inner promise is pending");
  release("inner");
  assert.equal(await settled, "inner");
  assert.deepEqual(order, ["after"]);
});

test("settleThen refuses a thenable that calls back with itself, and a chain of them does not run the stack out", async () => {
  let closed = 0;
  const self: { then(resolve: (v: unknown) => void): void } = {
    then(resolve) {
      resolve(self);
    },
  };
  await assert.rejects(
    settleThen(self, thenOf(self)!, () => closed++),
    (error: { code?: string }) => error.code === "INVALID_ARGUMENT",
  );
  assert.equal(closed, 1);
  // 100,000 thenables, each calling back at once with the next: followed
  // turn by turn, the close runs once, at the end.
  const chain = (n: number): unknown => ({
    then(resolve: (v: unknown) => void) {
      resolve(n === 0 ? "end" : chain(n - 1));
    },
  });
  const long = chain(100_000);
  assert.equal(await settleThen(long, thenOf(long)!, () => closed++), "end");
  assert.equal(closed, 2);
});
