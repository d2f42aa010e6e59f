/**
 * The Deno adapter: translates a neutral symbol table into `Deno.dlopen`.
 * Deno is reached through `globalThis` with the few types declared here, so
 * this file also compiles where Deno's own types are absent (the npm build).
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import { fixedArity } from "./_fixed_arity.ts";
import {
  boundSymbol,
  converted,
  emptyRecord,
  namesOf,
  openFirst,
} from "./_open.ts";
import type { NativeType, RuntimeAdapter, SymbolTable } from "./types.ts";

// Taken at load: a replaced global would make the (empty) buffer of a
// zero-length view.
const Buffers = ArrayBuffer;

type DenoPointer = object | null;
type DenoFunction = (...args: unknown[]) => unknown;

interface DenoFfi {
  version: { deno: string };
  dlopen(
    path: string,
    symbols: Record<string, unknown>,
  ): { symbols: Record<string, DenoFunction | undefined> };
  UnsafePointer: {
    create(value: bigint): DenoPointer;
  };
  UnsafePointerView: {
    new (pointer: object): { getInt32(offset?: number): number };
    getArrayBuffer(pointer: object, length: number): ArrayBuffer;
  };
  addSignalListener(signal: string, listener: () => void): void;
  permissions: {
    querySync(descriptor: { name: "read"; path: string }): { state: string };
    requestSync(descriptor: { name: "read"; path: string }): {
      state: string;
    };
  };
  exit(code: number): never;
  errors: {
    NotCapable?: ErrorConstructor;
    PermissionDenied?: ErrorConstructor;
  };
}

// Addresses cross as 64-bit integers, not Deno's pointer objects: boxing
// each address cost about 120 ns a call (bench/RESULTS.md). Every other
// neutral type has Deno's own name.
const denoType = (type: NativeType): string =>
  type === "pointer" ? "usize" : type;

/** The Deno adapter; `deno` is the `Deno` global. */
export function createDenoAdapter(deno: DenoFfi): RuntimeAdapter {
  const { UnsafePointer, UnsafePointerView } = deno;
  /** `run()`, a refusal by Deno's permissions becoming `message`. */
  function needingFfi<T>(run: () => T, message: string): T {
    try {
      return run();
    } catch (error) {
      const { NotCapable, PermissionDenied } = deno.errors;
      const refused =
        (NotCapable !== undefined && error instanceof NotCapable) ||
        (PermissionDenied !== undefined && error instanceof PermissionDenied);
      if (!refused) throw error;
      throw new SecretMemoryError("FFI_UNAVAILABLE", message, { cause: error });
    }
  }

  // Deno checks the ffi permission here and in dlopen, not in calls
  // through symbols already bound: a program that revoked it after
  // start can still wipe and unmap, but can make no new view.
  const toPointer = (address: bigint): DenoPointer =>
    address === 0n ? null : needingFfi(
      () => UnsafePointer.create(address),
      "Cannot make a view of secret memory: Deno's ffi permission was revoked " +
        "(Deno.permissions.revoke). Existing buffers can still be read and destroyed; " +
        "keep --allow-ffi granted while the program makes new ones",
    );

  return {
    runtime: "deno",
    version: deno.version.deno,

    open<S extends SymbolTable>(candidates: readonly string[], symbols: S) {
      const names = namesOf(symbols);
      const declared = emptyRecord<unknown>();
      for (let i = 0; i < names.length; i++) {
        const fn = symbols[names[i]];
        // No prototype: Deno reads flags it was not given (nonblocking)
        // through it, and a getter planted on Object.prototype made each
        // symbol bound at first use return a Promise the checks misread.
        declared[names[i]] = {
          __proto__: null,
          parameters: converted(fn.parameters, denoType),
          result: denoType(fn.result),
          optional: fn.optional === true,
          nonblocking: false,
        };
      }
      return openFirst<S>(candidates, (path) => {
        const library = needingFfi(
          () => deno.dlopen(path, declared),
          "Cannot call native code: Deno needs FFI permission; run with --allow-ffi",
        );
        const bound = emptyRecord<DenoFunction | undefined>();
        for (let i = 0; i < names.length; i++) {
          const fn = symbols[names[i]];
          const native = boundSymbol<DenoFunction>(
            library.symbols,
            names[i],
            fn.optional,
          );
          bound[names[i]] = native && fixedArity(native, fn);
        }
        return bound;
      });
    },

    view(address, length) {
      if (length === 0) return new Buffers(0);
      return UnsafePointerView.getArrayBuffer(toPointer(address)!, length);
    },

    readInt32: (address) =>
      new UnsafePointerView(toPointer(address)!).getInt32(0),

    readPermission(path) {
      // Asked as Deno's own file calls ask: "prompt" becomes a question
      // on a terminal (unless --no-prompt), and a refusal elsewhere.
      const descriptor = { name: "read", path } as const;
      let { state } = deno.permissions.querySync(descriptor);
      if (state === "prompt") {
        state = deno.permissions.requestSync(descriptor).state;
      }
      return state === "granted"
        ? { granted: true }
        : { granted: false, flag: `--allow-read=${path}` };
    },

    onExit(listener) {
      globalThis.addEventListener("unload", listener);
      // An uncaught exception or an unhandled rejection ends Deno without
      // "unload". Wipe then too, unless a handler that ran before this one
      // called preventDefault() to keep the process alive.
      const fatal = (event: Event) => {
        if (!event.defaultPrevented) listener();
      };
      globalThis.addEventListener("error", fatal);
      globalThis.addEventListener("unhandledrejection", fatal);
    },

    onSignal(signal, listener) {
      deno.addSignalListener(signal, listener);
    },

    exit: (code) => deno.exit(code),
  };
}
