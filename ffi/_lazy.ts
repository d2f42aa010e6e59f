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

import { emptyRecord, namesOf } from "./_open.ts";
import type { BoundLibrary, RuntimeAdapter, SymbolTable } from "./types.ts";

const hasOwn = Object.hasOwn;
const defineOwn = Object.defineProperty;

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
  // Records with no prototype, filled and read by the intrinsics taken at
  // load (see _open.ts): a symbol is bound at its first use, when a planted
  // accessor or a replaced built-in could otherwise choose what is called.
  const first = emptyRecord<S[keyof S]>();
  for (let i = 0; i < eager.length; i++) first[eager[i]] = symbols[eager[i]];
  const library: Record<string, unknown> = {
    __proto__: null,
    ...adapter.open(candidates, first),
  };
  const names = namesOf(symbols);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (hasOwn(first, name)) continue;
    defineOwn(library, name, {
      __proto__: null,
      configurable: true,
      enumerable: true,
      get() {
        const one = emptyRecord<S[keyof S]>();
        one[name] = symbols[name] as S[keyof S];
        const bound = adapter.open(candidates, one)[name];
        defineOwn(library, name, {
          __proto__: null,
          value: bound,
          enumerable: true,
          writable: false,
          configurable: false,
        } as PropertyDescriptor);
        return bound;
      },
    } as PropertyDescriptor);
  }
  return library as BoundLibrary<S>;
}
