/**
 * The printing hooks of every class that holds a secret: `JSON.stringify`,
 * Deno's and Node's (and Bun's) inspect get the class's own `toString()`
 * description, and `Object.prototype.toString` its name, never the content.
 * Written once here and defined on each prototype before the prototype is
 * frozen; each class declares their types.
 *
 * @module
 */

// Taken at load: a replacement made later must not run inside the library.
const defineProperty = Object.defineProperty;
const freeze = Object.freeze;

/** The description the class's own `toString` gives. */
function describe(this: { toString(): string }): string {
  return this.toString();
}
// One function on several prototypes: nothing may hang state on it.
freeze(describe);

const HOOKS = [
  "toJSON",
  Symbol.for("Deno.customInspect"),
  Symbol.for("nodejs.util.inspect.custom"),
] as const;

/**
 * Defines `toJSON`, Deno's and Node's inspect hooks and, given `tag`, a
 * `Symbol.toStringTag` getter on `prototype`, as a class body would (not
 * enumerable, configurable until the caller freezes the prototype).
 */
export function redact(prototype: object, tag?: string): void {
  for (const key of HOOKS) {
    // Null-prototype descriptors: a getter on Object.prototype (a `get`
    // or `value` planted before load) must not shape them.
    defineProperty(prototype, key, {
      __proto__: null,
      value: describe,
      writable: true,
      configurable: true,
    } as PropertyDescriptor);
  }
  if (tag === undefined) return;
  defineProperty(prototype, Symbol.toStringTag, {
    __proto__: null,
    get: freeze(() => tag),
    configurable: true,
  } as PropertyDescriptor);
}

/**
 * Gives `target` an own `then` that is no function: a promise resolved
 * with it (an async function returning it, `await`) looks `then` up, and
 * a getter planted on Object.prototype would be handed the object, or
 * could resolve the caller's await with an impostor of its own.
 */
export function withoutThen(target: object): void {
  defineProperty(target, "then", {
    __proto__: null,
    value: undefined,
    configurable: true,
  } as PropertyDescriptor);
}

/**
 * A class that holds a secret, made safe to hand out: its printing hooks
 * redacted (`redact`), no `then` to look up on Object.prototype, then its
 * prototype and itself frozen, so that code loaded later cannot replace a
 * method that code holding a secret calls.
 */
export function redactAndFreeze(
  constructor: { readonly prototype: object },
  tag?: string,
): void {
  redact(constructor.prototype, tag);
  withoutThen(constructor.prototype);
  freeze(constructor.prototype);
  freeze(constructor);
}
