/**
 * Guarded, locked, wiped memory for secrets in Deno, Bun and Node.
 *
 * A `SecretBuffer` keeps its bytes in a mapping of their own, outside the
 * garbage-collected heap: locked in RAM (never swapped), left out of core
 * dumps and forked children, fenced by inaccessible guard pages, guarded by
 * a random canary, inaccessible except inside `read`/`write` scopes, and
 * wiped the moment it is destroyed.
 *
 * Deno needs `--allow-ffi`.
 *
 * @example Make a key, use it, and let `using` wipe it
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 *
 * using key = SecretBuffer.random(32);
 * const firstByte = key.read((bytes) => bytes[0]);
 * console.log(String(key)); // SecretBuffer(32 bytes, noaccess)
 * if (typeof firstByte !== "number") throw new Error("unreadable");
 * ```
 *
 * @module
 */

export {
  type FromOptions,
  type GuardedSecret,
  SecretBuffer,
  type SecretBufferOptions,
  type SecretBufferState,
} from "./src/secret_buffer.ts";
export {
  SecretMemoryError,
  type SecretMemoryErrorCode,
  type SecretMemoryErrorOptions,
} from "./src/core/errors.ts";
export {
  type Capabilities,
  capabilities,
  type Protections,
} from "./src/core/capabilities.ts";
export {
  catchInterrupt,
  type MemoryStats,
  purge,
  type PurgeResult,
  stats,
} from "./src/core/_registry.ts";
export {
  configure,
  type ConfigureOptions,
  type LockPolicy,
  type LockPolicySettings,
  type LockPolicySource,
} from "./src/core/configure.ts";
export {
  type HardeningStatus,
  type HardeningStep,
  type HardeningStepName,
  type HardenOptions,
  hardenProcess,
  type HardenResult,
} from "./src/core/harden.ts";
export { timingSafeEqual } from "./src/core/constant_time.ts";
export { MAX_SIZE } from "./src/core/_layout.ts";
export {
  PROMPT_MAX_SIZE,
  type PromptOptions,
  promptSecret,
} from "./src/prompt.ts";
export {
  DEFAULT_MAX_SIZE,
  type InputOptions,
} from "./src/input/_accumulator.ts";
export { type InputEncoding } from "./src/input/encoding.ts";
export { type ByteSource } from "./src/input/stream.ts";
export {
  DEFAULT_TIMEOUT,
  type DenoFileLike,
  type FdOrFile,
  type FileOptions,
} from "./src/input/fd.ts";
export {
  type PoolFromOptions,
  type PoolStats,
  SecretPool,
  type SecretPoolOptions,
  SecretSlot,
  type SlotClassStats,
} from "./src/pool/pool.ts";
