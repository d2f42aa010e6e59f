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

const apply = Reflect.apply;
const PromiseConstructor = Promise;
const promiseThen = Promise.prototype.then;

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
    const fulfilled = (result: unknown) => finish(resolve, result);
    const rejected = (reason: unknown) => finish(reject, reason);
    try {
      try {
        apply(promiseThen, value, [fulfilled, rejected]);
      } catch (notNative) {
        if (then === promiseThen) throw notNative;
        apply(then, value, [fulfilled, rejected]);
      }
    } catch (error) {
      rejected(error);
    }
  });
}
