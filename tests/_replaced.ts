/**
 * Replacing a built-in for the length of one call, as a hostile program
 * might after importing secmem, and putting it back whatever happens.
 *
 * @module
 */

/** Replaces `key` on `target` by `value` while `during` runs. */
export function replacedWhile<T>(
  target: object,
  key: PropertyKey,
  value: unknown,
  during: () => T,
): T {
  const saved = Object.getOwnPropertyDescriptor(target, key)!;
  Object.defineProperty(target, key, {
    value,
    configurable: true,
    writable: true,
  });
  try {
    return during();
  } finally {
    Object.defineProperty(target, key, saved);
  }
}
