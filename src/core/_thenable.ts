/**
 * How a scope tells that its callback returned a promise, and closes when
 * it settles, without trusting the value or the promise machinery: `then`
 * is read once, so a getter that answers differently the second time cannot
 * leave a scope open or closed at the wrong moment; and the close is wired
 * by hand over built-ins taken at load, so that a `Promise.prototype.finally`
 * or `then` replaced after import cannot keep a scope open for good.
 *
 * @module
 */

import { SecretMemoryError } from "./errors.ts";

const apply = Reflect.apply;
const PromiseConstructor = Promise;
const promiseThen = Promise.prototype.then;
const queueMicrotask = globalThis.queueMicrotask;

/**
 * A thenable's `then`, read exactly once (a getter may answer differently
 * each time, or throw: then the scope closes and the error propagates).
 */
export function thenOf(
  value: unknown,
): ((...args: unknown[]) => unknown) | undefined {
  if (
    (typeof value !== "object" || value === null) && typeof value !== "function"
  ) return undefined;
  const then = (value as { then?: unknown }).then;
  return typeof then === "function"
    ? then as (...args: unknown[]) => unknown
    : undefined;
}

/**
 * A promise that follows `value` and runs `after` once, when `value` first
 * settles (or its `then` throws), before the promise settles; an error from
 * `after` rejects it.
 *
 * A native promise is followed by the `then` taken at load, which the
 * engine's brand check refuses for anything else before any outside code
 * runs; a thenable that is not a native promise, or one whose constructor's
 * species refuses (outside code ran then), is followed by the `then` read
 * from it. A thenable that calls back twice, or both ways, counts once.
 * A thenable that calls back with another thenable is followed on to that
 * one, as `await` would: the callback's work may still be running in it,
 * so closing at the first call back would close under it.
 */
export function settleThen(
  value: unknown,
  then: (...args: unknown[]) => unknown,
  after: () => void,
): Promise<unknown> {
  return new PromiseConstructor((resolve, reject) => {
    let settled = false;
    const finish = (settle: (outcome: unknown) => void, outcome: unknown) => {
      if (settled) return;
      settled = true;
      try {
        after();
      } catch (error) {
        reject(error);
        return;
      }
      settle(outcome);
    };
    const adopt = (thenable: unknown, result: unknown) => {
      let next;
      try {
        next = thenOf(result);
      } catch (error) {
        finish(reject, error);
        return;
      }
      if (next === undefined) {
        finish(resolve, result);
      } else if (result === thenable) {
        // As a promise resolved with itself, it could never settle.
        finish(
          reject,
          new SecretMemoryError(
            "INVALID_ARGUMENT",
            "Cannot wait for the scope's result: its thenable called back with itself; call back with a value",
          ),
        );
      } else {
        // On a later turn, as a promise would: a chain of thenables that
        // call back at once must not run the stack out between a call back
        // and the close, which would then never run.
        apply(queueMicrotask, globalThis, [() => follow(result, next)]);
      }
    };
    // Each thenable followed counts its own first call back only: a later
    // one, or a throw after it, is ignored as a promise would ignore it.
    const follow = (thenable: unknown, thenFn: typeof then) => {
      let called = false;
      const fulfilled = (result: unknown) => {
        if (called) return;
        called = true;
        adopt(thenable, result);
      };
      const rejected = (reason: unknown) => {
        if (called) return;
        called = true;
        finish(reject, reason);
      };
      try {
        try {
          apply(promiseThen, thenable, [fulfilled, rejected]);
        } catch (notNative) {
          if (thenFn === promiseThen) throw notNative;
          apply(thenFn, thenable, [fulfilled, rejected]);
        }
      } catch (error) {
        rejected(error);
      }
    };
    follow(value, then);
  });
}
