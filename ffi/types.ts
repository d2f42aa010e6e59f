/**
 * The runtime-neutral vocabulary of the native boundary: how an OS symbol
 * table is written once, and what a runtime adapter must give back for it.
 *
 * An OS table (for example `linux.ts`) lists C functions with these neutral
 * types; each runtime adapter (`deno.ts`, `bun.ts`, `node.ts`) translates the
 * table into its own FFI declaration and returns functions with one calling
 * convention: pointers are `bigint`, every other integer is a `number`.
 *
 * @module
 */

/**
 * A C type at the boundary.
 *
 * - `pointer`: an address, `bigint` in JavaScript (0n is NULL).
 * - `buffer`: a JavaScript `Uint8Array` whose bytes the callee reads or
 *   writes for the duration of the call (a C `void *` or `char *`).
 * - integers: `number` in JavaScript; 64-bit values must stay below 2^53,
 *   which every size, count and file offset we pass does.
 */
export type NativeType =
  | "void"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "isize"
  | "usize"
  | "pointer"
  | "buffer";

/** One C function: its parameter and result types. */
export interface NativeFunction {
  readonly parameters: readonly NativeType[];
  readonly result: NativeType;
  /** The symbol may be missing from some builds of the library. */
  readonly optional?: boolean;
}

/** A library's functions, keyed by their C symbol name. */
export type SymbolTable = Readonly<Record<string, NativeFunction>>;

/** The JavaScript type an adapter uses for one neutral type. */
export type JsValue<T extends NativeType> = T extends "pointer" ? bigint
  : T extends "buffer" ? Uint8Array
  : T extends "void" ? void
  : number;

type JsParameters<P extends readonly NativeType[]> = {
  -readonly [I in keyof P]: P[I] extends NativeType ? JsValue<P[I]> : never;
};

/** A callable C function with the neutral calling convention. */
export type BoundFunction<F extends NativeFunction> = (
  ...args: JsParameters<F["parameters"]>
) => JsValue<F["result"]>;

/** A library opened by an adapter: one function per table entry. */
export type BoundLibrary<S extends SymbolTable> = {
  readonly [K in keyof S]: S[K]["optional"] extends true
    ? BoundFunction<S[K]> | undefined
    : BoundFunction<S[K]>;
};

/**
 * What the runtime's permission model says about reading a path: granted
 * (or no model at all), or refused, with the flag that would grant it.
 */
export type ReadPermission =
  | { readonly granted: true }
  | {
    readonly granted: false;
    /** The command-line flag that grants it, for example `--allow-read=/a`. */
    readonly flag: string;
  };

/** The runtimes secmem runs on. */
export type RuntimeName = "deno" | "bun" | "node";

/** A signal the process can be asked to stop with. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/**
 * What a runtime adapter gives the layers above it: opening a library,
 * zero-copy views over native memory, and the few process hooks that differ
 * between runtimes. Nothing above ffi/ touches a runtime's FFI directly.
 */
export interface RuntimeAdapter {
  readonly runtime: RuntimeName;
  /** The runtime's version, for reports. */
  readonly version: string;
  /**
   * Opens the first of `candidates` that loads and binds `symbols`.
   * Throws `SecretMemoryError` `FFI_UNAVAILABLE` when none can be opened.
   */
  open<S extends SymbolTable>(
    candidates: readonly string[],
    symbols: S,
  ): BoundLibrary<S>;
  /**
   * An `ArrayBuffer` over `length` bytes at `address`, sharing the memory
   * (no copy). Detach it with `transfer(0)` before the memory is unmapped.
   */
  view(address: bigint, length: number): ArrayBuffer;
  /** Reads a native `int` at `address` (used for errno). */
  readInt32(address: bigint): number;
  /**
   * What the runtime's permission model says about reading `path`, with
   * the flag that grants it when it refuses; absent where the runtime has
   * no permission model (Bun).
   */
  readPermission?(path: string): ReadPermission;
  /** Runs `listener` synchronously when the process exits normally. */
  onExit(listener: () => void): void;
  /** Runs `listener` when the process receives `signal`. */
  onSignal(signal: StopSignal, listener: () => void): void;
  /** Ends the process with `code`. */
  exit(code: number): never;
}
