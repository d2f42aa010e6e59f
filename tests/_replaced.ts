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

/**
 * Defines `key` on `target` as `descriptor` (configurable) while `during`
 * runs, then puts it back as it was, or removes it if it was not there: for
 * accessors, and for keys such as `Array.prototype[0]` that do not exist.
 */
export function definedWhile<T>(
  target: object,
  key: PropertyKey,
  descriptor: PropertyDescriptor,
  during: () => T,
): T {
  const saved = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { ...descriptor, configurable: true });
  try {
    return during();
  } finally {
    if (saved === undefined) {
      delete (target as Record<PropertyKey, unknown>)[key];
    } else Object.defineProperty(target, key, saved);
  }
}

/**
 * Replaces `Promise.prototype.constructor` and `then` so that every value
 * a promise settles with (a reply, a read's result) is handed to `note`
 * as it passes: an await of a promise whose constructor is not the
 * built-in one resolves a new promise with it, which calls its `then`.
 * Returns what puts both back.
 */
export function spyOnAwaits(note: (value: unknown) => void): () => void {
  const realThen = Promise.prototype.then;
  const realConstructor = Object.getOwnPropertyDescriptor(
    Promise.prototype,
    "constructor",
  )!;
  Object.defineProperty(Promise.prototype, "constructor", {
    configurable: true,
    writable: true,
    value: function Other() {},
  });
  Promise.prototype.then = function (
    this: Promise<unknown>,
    ok?: ((value: unknown) => unknown) | null,
    no?: ((reason: unknown) => unknown) | null,
  ) {
    return Reflect.apply(realThen, this, [(value: unknown) => {
      note(value);
      return typeof ok === "function" ? ok(value) : value;
    }, no]);
  } as typeof realThen;
  return () => {
    Promise.prototype.then = realThen;
    Object.defineProperty(Promise.prototype, "constructor", realConstructor);
  };
}
