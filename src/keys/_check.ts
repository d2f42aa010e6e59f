/**
 * Argument checks shared by the curve functions: the crypto entry's
 * `checkInput` (intrinsic getters, so a Proxy or an own `length` cannot
 * lie) plus an exact length.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { checkInput } from "../crypto/_input.ts";

/**
 * Throws INVALID_ARGUMENT unless `value` is a real Uint8Array of `length`
 * bytes (any length when `length` is -1), naming the argument; returns the
 * length read once.
 */
export function checkLength(
  what: string,
  value: unknown,
  length: number,
): number {
  const input = checkInput(value, what);
  if (length >= 0 && input.length !== length) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${what}: expected ${length} bytes, got ${input.length}`,
    );
  }
  return input.length;
}
