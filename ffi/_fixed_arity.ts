/**
 * Wraps a runtime's native function in a closure with a fixed number of
 * parameters that converts each argument and the result. Deno's and Node's
 * fast call paths want 64-bit integers as bigint and are lost to a
 * `(...args)` spread; a fixed arity keeps them (measured in bench/: Deno's
 * read scope went from 3.4 µs to 1.8 µs).
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";

/** A runtime's callable native function. */
export type RawFunction = (...args: unknown[]) => unknown;

/** Turns one value into what the other side of the boundary takes. */
export type Convert = (value: unknown) => unknown;

/** Passes a value through. */
export const same: Convert = (value) => value;
/** A 64-bit integer as bigint, from a number or bigint. */
export const toBigInt: Convert = (value) => BigInt(value as number | bigint);
/** A 64-bit integer as number (every size and count we use is below 2^53). */
export const toNumber: Convert = (value) => Number(value);

/** `native` called with `convert[i]` applied to argument i and `out` to the result. */
export function fixedArity(
  native: RawFunction,
  convert: readonly Convert[],
  out: Convert,
): RawFunction {
  const [c0, c1, c2, c3, c4, c5, c6] = convert;
  switch (convert.length) {
    case 0:
      return () => out(native());
    case 1:
      return (a) => out(native(c0(a)));
    case 2:
      return (a, b) => out(native(c0(a), c1(b)));
    case 3:
      return (a, b, c) => out(native(c0(a), c1(b), c2(c)));
    case 4:
      return (a, b, c, d) => out(native(c0(a), c1(b), c2(c), c3(d)));
    case 5:
      return (a, b, c, d, e) => out(native(c0(a), c1(b), c2(c), c3(d), c4(e)));
    case 6:
      return (a, b, c, d, e, f) =>
        out(native(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f)));
    // Windows' CreateFileW takes seven.
    case 7:
      return (a, b, c, d, e, f, g) =>
        out(native(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f), c6(g)));
    default:
      throw new SecretMemoryError(
        "UNSUPPORTED_PLATFORM",
        `Cannot bind a function of ${convert.length} parameters: the adapters take at most 7`,
      );
  }
}
