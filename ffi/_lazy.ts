/**
 * Binds a symbol table in two steps: the symbols every secret needs at
 * once, the others at their first use. Binding is most of what opening a
 * library costs (node:ffi builds a call stub per symbol, Bun compiles one,
 * Deno makes a trampoline), and a program that only makes and reads
 * secrets never calls the prompt's, the agent's or the hardening's
 * functions: binding them at start-up cost Node about 18 ms of its first
 * secret (bench/RESULTS.md, issue 24).
 *
 * @module
 */

import type { BoundLibrary, RuntimeAdapter, SymbolTable } from "./types.ts";

/**
 * Opens `symbols` from the first of `candidates` that binds the `eager`
 * ones (a required one missing fails here, as a full table would); every
 * other symbol is bound alone, from the same candidates, when it is first
 * read, and kept. A required symbol missing then fails that first read with
 * `FFI_UNAVAILABLE`; a missing optional one reads `undefined`.
 */
export function openInTwoSteps<S extends SymbolTable>(
  adapter: RuntimeAdapter,
  candidates: readonly string[],
  symbols: S,
  eager: readonly (keyof S & string)[],
): BoundLibrary<S> {
  const first: Record<string, S[keyof S]> = {};
  for (const name of eager) first[name] = symbols[name];
  const library: Record<string, unknown> = {
    ...adapter.open(candidates, first),
  };
  for (const name of Object.keys(symbols)) {
    if (Object.hasOwn(first, name)) continue;
    Object.defineProperty(library, name, {
      configurable: true,
      enumerable: true,
      get() {
        const one = { [name]: symbols[name] };
        const bound = (adapter.open(candidates, one) as Record<
          string,
          unknown
        >)[name];
        Object.defineProperty(library, name, {
          value: bound,
          enumerable: true,
          writable: false,
          configurable: false,
        });
        return bound;
      },
    });
  }
  return library as BoundLibrary<S>;
}
