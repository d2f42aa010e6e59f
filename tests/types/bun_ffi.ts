/**
 * Compiled by tsc against bun-types (`npm run check:bun-types`), never run:
 * ffi/bun.ts declares its own shape of `bun:ffi` so that no runtime import
 * or Bun typing leaks into the library, and this file fails the build when
 * Bun's declared API no longer fits that shape.
 *
 * @module
 */

import type * as bunFfi from "bun:ffi";
import type { BunFfi } from "../../ffi/bun.ts";

declare const real: typeof bunFfi;

// Each member Bun declares must be usable where the adapter expects it.
export const shaped: BunFfi = {
  dlopen: real.dlopen,
  toArrayBuffer: real.toArrayBuffer,
  read: { i32: real.read.i32 },
};
