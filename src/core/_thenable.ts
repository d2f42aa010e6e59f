/**
 * How a scope tells that its callback returned a promise, without trusting
 * the value: `then` is read once, so a getter that answers differently the
 * second time cannot leave a scope open or closed at the wrong moment.
 *
 * @module
 */

const apply = Reflect.apply;

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

/** A promise that follows `value` through the one `then` already read. */
export function settle(
  value: unknown,
  then: (...args: unknown[]) => unknown,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    apply(then, value, [resolve, reject]);
  });
}
