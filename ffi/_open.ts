/**
 * The search every adapter makes for a library: try each candidate path in
 * order, collect why each failed, and report them together.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type { BoundLibrary, SymbolTable } from "./types.ts";

// Taken at load. Binding happens at a symbol's first use, long after
// import: a built-in replaced by then, or an accessor planted on
// Object.prototype for a symbol's name, must not choose what is called.
const keys = Object.keys;
const defineOwn = Object.defineProperty;
const getOwn = Object.getOwnPropertyDescriptor;
const hasOwn = Object.hasOwn;

/** An empty record with no prototype, to fill by name. */
export function emptyRecord<T>(): Record<string, T> {
  return { __proto__: null } as unknown as Record<string, T>;
}

/**
 * The function a runtime bound as `name`, read only from `symbols`' own
 * property. A runtime that fills its table by assignment hands a setter
 * planted on Object.prototype the function, and its getter would answer;
 * a required symbol not found so makes this candidate fail (closed).
 */
export function boundSymbol<F>(
  symbols: object,
  name: string,
  optional: boolean | undefined,
): F | undefined {
  const own = getOwn(symbols, name);
  // hasOwn, not `in`: the descriptor itself has Object.prototype.
  if (own !== undefined && hasOwn(own, "value")) return own.value as F;
  if (optional) return undefined;
  throw new Error(`${name} is not among the bound symbols`);
}

/** The names of a symbol table, by `Object.keys` as it was at load. */
export function namesOf(table: object): string[] {
  return keys(table);
}

/**
 * `list.map(convert)` with no array method or element setter of anyone
 * else's: each element is defined as the new array's own.
 */
export function converted<T, U>(
  list: readonly T[],
  convert: (item: T) => U,
): U[] {
  const out: U[] = [];
  for (let i = 0; i < list.length; i++) {
    defineOwn(out, i, {
      __proto__: null,
      value: convert(list[i]),
      writable: true,
      enumerable: true,
      configurable: true,
    } as PropertyDescriptor);
  }
  return out;
}

/**
 * Returns what `bind` makes of the first candidate it can open. `bind`
 * throws to move on; a `SecretMemoryError` it throws (a missing permission)
 * ends the search at once, since no other path would fare better.
 */
export function openFirst<S extends SymbolTable>(
  candidates: readonly string[],
  bind: (path: string) => Record<string, unknown>,
): BoundLibrary<S> {
  // By index, the reasons joined by concatenation: most symbols are bound
  // at first use, and an array iterator replaced by then chose the path
  // opened (a library of its own, whose mlock or tcsetattr does nothing).
  let failures = "";
  for (let i = 0; i < candidates.length; i++) {
    const path = candidates[i];
    try {
      return bind(path) as BoundLibrary<S>;
    } catch (error) {
      if (error instanceof SecretMemoryError) throw error;
      failures += `${i > 0 ? "; " : ""}${path}: ${(error as Error).message}`;
    }
  }
  throw new SecretMemoryError(
    "FFI_UNAVAILABLE",
    `Cannot open a native library (${failures})`,
  );
}
