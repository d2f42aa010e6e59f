/**
 * Gives a Deno or Node native function the neutral calling convention
 * (`types.ts`) behind a closure with a fixed number of parameters. Both
 * runtimes take and give 64-bit integers as bigint, while the tables pass
 * sizes and offsets as numbers; and their fast call paths are lost to a
 * `(...args)` spread, which a fixed arity keeps (measured in bench/: Deno's
 * read scope went from 3.4 µs to 1.8 µs).
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type { NativeFunction, NativeType } from "./types.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;

/** A runtime's callable native function. */
export type RawFunction = (...args: unknown[]) => unknown;

type Convert = (value: unknown) => unknown;

const same: Convert = (value) => value;
const toBigInt: Convert = (value) => BigInt(value as number | bigint);
// Every size and count we use is below 2^53.
const toNumber: Convert = (value) => Number(value);
const zero: Convert = () => 0;

/** Whether a value of `type` crosses as a 64-bit integer (a bigint). */
function isWide(type: NativeType): boolean {
  return type === "i64" || type === "u64" || type === "isize" ||
    type === "usize";
}

/**
 * `native` taking `fn`'s arguments, 64-bit integers and addresses as bigint,
 * and giving back addresses as bigint and other 64-bit results as numbers.
 * With `padTo`, `native` is declared with that many parameters and gets 0
 * for each one past `fn`'s own (see PADDED_ARITY in node.ts).
 */
export function fixedArity(
  native: RawFunction,
  fn: NativeFunction,
  padTo: number = fn.parameters.length,
): RawFunction {
  if (fn.parameters.length > 7) {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot bind a function of ${fn.parameters.length} parameters: the adapters take at most 7`,
    );
  }
  // Each position's conversion by index, no array method or iterator: a
  // replacement made later must not choose how an address is passed.
  const { parameters } = fn;
  const at = (position: number): Convert => {
    if (position >= parameters.length) return zero;
    const type = parameters[position];
    return type === "pointer" || isWide(type) ? toBigInt : same;
  };
  const c0 = at(0), c1 = at(1), c2 = at(2), c3 = at(3), c4 = at(4);
  const c5 = at(5), c6 = at(6), c7 = at(7), c8 = at(8);
  const out = fn.result === "pointer"
    ? toBigInt
    : isWide(fn.result)
    ? toNumber
    : same;
  const arity = padTo > parameters.length ? padTo : parameters.length;
  switch (arity) {
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
    // Node declares every function with nine (padTo).
    default:
      return (a, b, c, d, e, f, g, h, i) =>
        out(
          native(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f), c6(g), c7(h), c8(i)),
        );
  }
}
