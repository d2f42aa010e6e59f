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
import { fixedArity, same, toBigInt, toNumber } from "./_fixed_arity.ts";
import { openFirst } from "./_open.ts";
import { type NodeLikeProcess, processHooks } from "./_process.ts";

type NodeFunction = (...args: unknown[]) => unknown;

interface NodeSignature {
  arguments: string[];
  return: string;
}

interface NodeLibrary {
  getSymbol(name: string): bigint;
  getFunction(name: string, signature: NodeSignature): NodeFunction;
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

const WIDE: ReadonlySet<NativeType> = new Set(["i64", "u64", "isize", "usize"]);

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
      if (length === 0) return new ArrayBuffer(0);
      // copy = false: the ArrayBuffer is the native memory itself.
      return ffi.toArrayBuffer(address, length, false);
    },

    readInt32: (address) => ffi.getInt32(address, 0),

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
): Record<string, NodeFunction | undefined> {
  const bound: Record<string, NodeFunction | undefined> = {};
  for (const [name, fn] of Object.entries(symbols)) {
    if (fn.optional && !hasSymbol(library, name)) {
      bound[name] = undefined;
      continue;
    }
    const native = library.getFunction(name, {
      arguments: fn.parameters.map((type) => NODE_TYPES[type]),
      return: NODE_TYPES[fn.result],
    });
    bound[name] = bind(native, fn.parameters, fn.result);
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

/**
 * Gives a node:ffi function the neutral calling convention: node:ffi wants
 * bigints for 64-bit integers and returns them as bigints, while the tables
 * pass sizes and offsets as numbers. Pointers stay bigint both ways.
 */
function bind(
  native: NodeFunction,
  parameters: readonly NativeType[],
  result: NativeType,
): NodeFunction {
  return fixedArity(
    native,
    parameters.map((type) => WIDE.has(type) ? toBigInt : same),
    WIDE.has(result) ? toNumber : same,
  );
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
