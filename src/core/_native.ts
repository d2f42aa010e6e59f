/**
 * The native layer as the core sees it: the contract that ffi/ implements
 * (`ffi/contract.ts`), opened on first use, and a seam for unit tests to
 * install a fake.
 *
 * @module
 */

import type { NativeMemory } from "../../ffi/contract.ts";
import { loadNative } from "../../ffi/load.ts";

export type {
  CommitResult,
  LockLimit,
  NativeMemory,
  OsName,
  PlatformFeatures,
  Protection,
  SecretMemorySupport,
} from "../../ffi/contract.ts";
export type { RuntimeName, StopSignal } from "../../ffi/types.ts";

let loaded: NativeMemory | undefined;

/**
 * The native layer, opened on first use so that importing secmem never
 * needs FFI permission; only allocating does.
 */
export function native(): NativeMemory {
  return loaded ??= loadNative();
}

/** Replaces the native layer, for unit tests with a fake. */
export function useNativeForTesting(fake: NativeMemory | undefined): void {
  loaded = fake;
}
