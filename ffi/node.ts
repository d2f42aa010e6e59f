/**
 * The Node adapter: translates a neutral symbol table into `node:ffi`
 * (Node 26.1 and newer). `node:ffi` is fetched with
 * `process.getBuiltinModule` when the first buffer is allocated, so importing
 * secmem works on any Node, and Deno, Bun and their type checkers never see
 * the module.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type { NativeType, RuntimeAdapter, SymbolTable } from "./types.ts";
import { fixedArity, type RawFunction } from "./_fixed_arity.ts";
import { converted, emptyRecord, namesOf, openFirst } from "./_open.ts";
import { type NodeLikeProcess, processHooks } from "./_process.ts";

// Taken at load: a replaced global would make the (empty) buffer of a
// zero-length view.
const Buffers = ArrayBuffer;

interface NodeSignature {
  arguments: string[];
  return: string;
}

interface NodeLibrary {
  getSymbol(name: string): bigint;
  getFunction(name: string, signature: NodeSignature): RawFunction;
  close(): void;
}

interface NodeFfi {
  DynamicLibrary: new (path: string) => NodeLibrary;
  toArrayBuffer(pointer: bigint, length: number, copy: boolean): ArrayBuffer;
  getInt32(pointer: bigint, offset: number): number;
}

/** The first Node release with `node:ffi`. */
const FIRST_FFI_NODE = "26.1";

// node:ffi passes every 64-bit integer as a bigint, pointers included, so an
// address such as MAP_FAILED (all bits set) arrives exactly.
const NODE_TYPES: Record<NativeType, string> = {
  void: "void",
  i32: "int32",
  u32: "uint32",
  i64: "int64",
  u64: "uint64",
  isize: "int64",
  usize: "uint64",
  pointer: "pointer",
  buffer: "buffer",
};

/**
 * Every function is declared with trailing int32 parameters up to this many
 * arguments, and called with 0 for each. node:ffi's fast call path (V8's
 * fast API calls) crashed processes making tight loops of calls, now and then
 * (a V8 fatal "Check failed: FastApiCallNode::ArityForArgc", "unreachable
 * code", or SIGSEGV; docs/node-ffi-fast-call-crash.md), and the fast path
 * refuses a signature with more integer arguments than it passes in
 * registers, so node:ffi takes its regular call path instead: measured on
 * x86-64, where more than six is refused and the crashes stop. Nine is more
 * than AAPCS64's eight argument registers too (and Windows x64's four). A
 * C function ignores arguments it does not declare: under these conventions
 * the caller places and removes them (variadic syscall(2) reads them as
 * zeros). Crash counts and the cost, about 120-170 ns a call: bench/RESULTS.md.
 */
const PADDED_ARITY = 9;
// The parameter positions 0 to PADDED_ARITY - 1, to declare by.
const PADDING: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8];

/** The Node adapter; `process` is Node's `process` object. */
export function createNodeAdapter(process: NodeLikeProcess): RuntimeAdapter {
  const version = process.versions.node ?? "unknown";
  const ffi = loadFfi(process, version);

  return {
    runtime: "node",
    version,

    open<S extends SymbolTable>(candidates: readonly string[], symbols: S) {
      return openFirst<S>(candidates, (path) => {
        let library: NodeLibrary;
        try {
          library = new ffi.DynamicLibrary(path);
        } catch (error) {
          rethrowPermission(error);
          throw error;
        }
        try {
          return bindAll(library, symbols);
        } catch (error) {
          library.close();
          throw error;
        }
      });
    },

    view(address, length) {
      if (length === 0) return new Buffers(0);
      // copy = false: the ArrayBuffer is the native memory itself.
      return ffi.toArrayBuffer(address, length, false);
    },

    readInt32: (address) => ffi.getInt32(address, 0),

    readPermission(path) {
      // `process.permission` exists only under --permission; read each
      // time, so no answer is cached across a change of the model.
      const model = process.permission;
      return model === undefined || model.has("fs.read", path)
        ? { granted: true }
        : { granted: false, flag: `--allow-fs-read=${path}` };
    },

    ...processHooks(process),
  };
}

/**
 * Fetches `node:ffi`, or explains why this Node cannot give it: too old;
 * started without `--experimental-ffi` where the module is still behind that
 * flag (Node 26.1 shipped it so), or with `--no-experimental-ffi`; or built
 * without FFI.
 */
function loadFfi(process: NodeLikeProcess, version: string): NodeFfi {
  let ffi: NodeFfi | undefined;
  let cause: unknown;
  try {
    ffi = typeof process.getBuiltinModule === "function"
      ? process.getBuiltinModule("node:ffi") as NodeFfi | undefined
      : undefined;
  } catch (error) {
    cause = error;
  }
  if (ffi !== undefined) return ffi;
  const [major, minor] = version.split(".").map(Number);
  const tooOld = !(major > 26 || (major === 26 && minor >= 1));
  const reason = tooOld
    ? `this is Node ${version}`
    : `Node ${version} gives no node:ffi module (start it with --experimental-ffi, which early Node 26 releases require, or use a build with FFI)`;
  throw new SecretMemoryError(
    "FFI_UNAVAILABLE",
    `Cannot call native code: secmem needs Node ${FIRST_FFI_NODE} or newer with node:ffi, and ${reason}; run it with Node ${FIRST_FFI_NODE}+, Bun or Deno`,
    { cause },
  );
}

/**
 * Binds every symbol of the table. node:ffi resolves symbols one by one, so
 * a missing optional symbol is probed with `getSymbol` and left undefined,
 * while a missing required one fails the whole table.
 */
function bindAll(
  library: NodeLibrary,
  symbols: SymbolTable,
): Record<string, RawFunction | undefined> {
  const bound = emptyRecord<RawFunction | undefined>();
  const names = namesOf(symbols);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const fn = symbols[name];
    if (fn.optional && !hasSymbol(library, name)) {
      bound[name] = undefined;
      continue;
    }
    // Padded with int32 parameters up to PADDED_ARITY (see fixedArity).
    const native = library.getFunction(name, {
      arguments: converted(
        PADDING,
        (at) =>
          at < fn.parameters.length ? NODE_TYPES[fn.parameters[at]] : "int32",
      ),
      return: NODE_TYPES[fn.result],
    });
    bound[name] = fixedArity(native, fn, PADDED_ARITY);
  }
  return bound;
}

function hasSymbol(library: NodeLibrary, name: string): boolean {
  try {
    library.getSymbol(name);
    return true;
  } catch {
    return false;
  }
}

/** Node's permission model refuses FFI unless `--allow-ffi` is given. */
function rethrowPermission(error: unknown): void {
  if ((error as { code?: unknown }).code !== "ERR_ACCESS_DENIED") return;
  throw new SecretMemoryError(
    "FFI_UNAVAILABLE",
    "Cannot call native code: Node's permission model denies FFI; run with --allow-ffi",
    { cause: error },
  );
}
