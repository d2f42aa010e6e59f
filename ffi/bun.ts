/**
 * The Bun adapter: translates a neutral symbol table into `bun:ffi`.
 * `bun:ffi` is fetched with `process.getBuiltinModule` at first use, so no
 * static import breaks the other runtimes or their type checkers.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import {
  boundSymbol,
  converted,
  emptyRecord,
  namesOf,
  openFirst,
} from "./_open.ts";
import type { NativeType, RuntimeAdapter, SymbolTable } from "./types.ts";
import { type NodeLikeProcess, processHooks } from "./_process.ts";

// Taken at load: a replaced global would make the (empty) buffer of a
// zero-length view.
const Buffers = ArrayBuffer;

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const Number = globalThis.Number;
const apply = Reflect.apply;

/** What the adapter passes: integers, 64-bit values and byte buffers. */
type BunArgument = number | bigint | Uint8Array;
type BunFunction = (...args: BunArgument[]) => unknown;

/** The `bun:ffi` type names the adapter uses. */
type BunTypeName = "void" | "i32" | "u32" | "i64" | "u64" | "ptr";

/** One function as bun:ffi's `dlopen` takes it. */
type BunDeclaration = { args: BunTypeName[]; returns: BunTypeName };

/** The part of `bun:ffi` the adapter uses; tests/types/ checks it against bun-types. */
export interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, BunDeclaration>,
  ): { symbols: Record<string, BunFunction> };
  toArrayBuffer(pointer: number, offset: number, length: number): ArrayBuffer;
  read: { i32(pointer: number, offset: number): number };
}

// Pointers cross as u64 so that every address, including MAP_FAILED
// (all bits set), arrives exactly; a JavaScript number would round it.
const BUN_TYPES: Record<NativeType, BunTypeName> = {
  void: "void",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  isize: "i64",
  usize: "u64",
  pointer: "u64",
  buffer: "ptr",
};

/** The Bun adapter; `process` is Bun's Node-compatible process object. */
export function createBunAdapter(
  process: NodeLikeProcess,
  version: string,
): RuntimeAdapter {
  const ffi = process.getBuiltinModule("bun:ffi") as BunFfi | undefined;
  if (ffi === undefined) {
    throw new SecretMemoryError(
      "FFI_UNAVAILABLE",
      "Cannot call native code: this Bun has no bun:ffi module",
    );
  }

  function bind(native: BunFunction, result: NativeType): BunFunction {
    const wide = result === "i64" || result === "u64" ||
      result === "isize" || result === "usize";
    // Reflect.apply, not a spread: a replaced array iterator must not
    // choose the arguments.
    return wide ? (...args) => Number(apply(native, undefined, args)) : native;
  }

  return {
    runtime: "bun",
    version,

    open<S extends SymbolTable>(candidates: readonly string[], symbols: S) {
      const names = namesOf(symbols);
      const declared = emptyRecord<BunDeclaration>();
      for (let i = 0; i < names.length; i++) {
        const fn = symbols[names[i]];
        declared[names[i]] = {
          args: converted(fn.parameters, (type) => BUN_TYPES[type]),
          returns: BUN_TYPES[fn.result],
        };
      }
      return openFirst<S>(candidates, (path) => {
        const library = openWithOptionals(ffi, path, declared, symbols);
        const bound = emptyRecord<BunFunction | undefined>();
        for (let i = 0; i < names.length; i++) {
          const fn = symbols[names[i]];
          const native = boundSymbol<BunFunction>(
            library,
            names[i],
            fn.optional,
          );
          bound[names[i]] = native && bind(native, fn.result);
        }
        return bound;
      });
    },

    view(address, length) {
      if (length === 0) return new Buffers(0);
      return ffi.toArrayBuffer(Number(address), 0, length);
    },

    readInt32: (address) => ffi.read.i32(Number(address), 0),

    // Bun has no permission model: every path is the program's to read.
    readPermission: () => ({ granted: true }),

    ...processHooks(process),
  };
}

/**
 * bun:ffi refuses a whole table when one symbol is missing, so a table with
 * optional symbols is retried without the ones that failed to bind.
 */
function openWithOptionals(
  ffi: BunFfi,
  path: string,
  declared: Record<string, BunDeclaration>,
  symbols: SymbolTable,
): Record<string, BunFunction> {
  const wanted = { ...declared };
  for (;;) {
    try {
      return ffi.dlopen(path, wanted).symbols;
    } catch (error) {
      const message = (error as Error).message;
      const missing = Object.keys(wanted).find((name) =>
        symbols[name].optional && message.includes(name)
      );
      if (missing === undefined) throw error;
      delete wanted[missing];
    }
  }
}
