/**
 * The search every adapter makes for a library: try each candidate path in
 * order, collect why each failed, and report them together.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type { BoundLibrary, SymbolTable } from "./types.ts";

/**
 * Returns what `bind` makes of the first candidate it can open. `bind`
 * throws to move on; a `SecretMemoryError` it throws (a missing permission)
 * ends the search at once, since no other path would fare better.
 */
export function openFirst<S extends SymbolTable>(
  candidates: readonly string[],
  bind: (path: string) => Record<string, unknown>,
): BoundLibrary<S> {
  const failures: string[] = [];
  for (const path of candidates) {
    try {
      return bind(path) as BoundLibrary<S>;
    } catch (error) {
      if (error instanceof SecretMemoryError) throw error;
      failures.push(`${path}: ${(error as Error).message}`);
    }
  }
  throw new SecretMemoryError(
    "FFI_UNAVAILABLE",
    `Cannot open a native library (${failures.join("; ")})`,
  );
}
