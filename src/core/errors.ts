/**
 * The one error type secmem throws, with a stable `code` to branch on.
 *
 * @module
 */

/**
 * Stable error codes. Callers branch on these; messages may change.
 *
 * - `INVALID_SIZE`: a size that is not a whole number in range.
 * - `INVALID_ARGUMENT`: an argument of the wrong type or an unknown option.
 * - `DESTROYED`: the buffer was destroyed; it cannot be used any more.
 * - `ACCESS_DENIED`: the access asked for conflicts with an open scope.
 * - `MEMLOCK_LIMIT`: the OS refused to lock more memory.
 * - `CANARY_CORRUPTED`: bytes next to the secret were overwritten.
 * - `FFI_UNAVAILABLE`: the runtime cannot call native code here.
 * - `UNSUPPORTED_PLATFORM`: the runtime or OS is not supported.
 * - `OS_ERROR`: a system call failed; see `errno` and `syscall`.
 * - `TOO_LARGE`: input is longer than the maximum the caller allowed.
 * - `CANCELLED`: the user ended a prompt (Ctrl-C, or Ctrl-D / end of
 *   input before any byte); whatever was typed was wiped.
 * - `NOT_A_TERMINAL`: a prompt was asked for, but stdin is not a terminal
 *   and piped input was not allowed.
 * - `INTEGRITY`: sealed data was modified; it failed authentication.
 * - `MAP_LIMIT`: the process is near `vm.max_map_count` (each buffer is
 *   its own mappings); the runtime's headroom is kept. Use a `SecretPool`
 *   for many small secrets, or destroy buffers.
 * - `INVALID_KEY`: a key or public point that cannot be used safely or at
 *   all: an X25519 peer of small order (the shared secret came out all
 *   zero), or key bytes that do not decode.
 * - `INPUT_ERROR`: the caller's source (a stream, a file object) failed
 *   while it was read or written; its own error is the `cause`. Whatever
 *   was read was wiped.
 */
export type SecretMemoryErrorCode =
  | "INVALID_SIZE"
  | "INVALID_ARGUMENT"
  | "DESTROYED"
  | "ACCESS_DENIED"
  | "MEMLOCK_LIMIT"
  | "CANARY_CORRUPTED"
  | "FFI_UNAVAILABLE"
  | "UNSUPPORTED_PLATFORM"
  | "OS_ERROR"
  | "TOO_LARGE"
  | "CANCELLED"
  | "NOT_A_TERMINAL"
  | "INTEGRITY"
  | "MAP_LIMIT"
  | "INPUT_ERROR"
  | "INVALID_KEY";

/** Extra facts an error may carry. */
export interface SecretMemoryErrorOptions {
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
  /** The OS error number of a failed call. */
  errno?: number;
  /** The name of the failed call, for example `"mmap"`. */
  syscall?: string;
}

// Taken at load: a replacement made later must not run inside the library.
const hasOwn = Object.hasOwn;
const defineProperty = Object.defineProperty;

function ownValue<K extends keyof SecretMemoryErrorOptions>(
  options: SecretMemoryErrorOptions,
  key: K,
): SecretMemoryErrorOptions[K] | undefined {
  return hasOwn(options, key) ? options[key] : undefined;
}

/**
 * Thrown by every secmem operation that fails.
 *
 * @example Branch on the code
 * ```ts
 * import { SecretBuffer, SecretMemoryError } from "@secmem/secmem";
 *
 * try {
 *   SecretBuffer.alloc(-1);
 * } catch (error) {
 *   if (!(error instanceof SecretMemoryError)) throw error;
 *   if (error.code !== "INVALID_SIZE") throw error;
 * }
 * ```
 */
export class SecretMemoryError extends Error {
  /** The stable code that names what went wrong. */
  readonly code: SecretMemoryErrorCode;
  /** The OS error number, when a system call failed. */
  readonly errno?: number;
  /** The system call or native function that failed. */
  readonly syscall?: string;

  /**
   * Creates an error with a stable code.
   *
   * @param code The stable code.
   * @param message What happened and what to do about it.
   * @param options `cause`, `errno` and `syscall`, where known.
   */
  constructor(
    code: SecretMemoryErrorCode,
    message: string,
    options: SecretMemoryErrorOptions = {},
  ) {
    // Own properties only: errors are made inside scopes, and a getter on
    // Object.prototype must not run there (it could open a buffer).
    const cause = ownValue(options, "cause");
    super(message, cause === undefined ? undefined : { cause });
    // Defined, not assigned: under a frozen Error.prototype an assignment to
    // the inherited read-only `name` would throw a TypeError instead.
    defineProperty(this, "name", {
      value: "SecretMemoryError",
      configurable: true,
      writable: true,
    });
    this.code = code;
    const errno = ownValue(options, "errno");
    const syscall = ownValue(options, "syscall");
    if (errno !== undefined) this.errno = errno;
    if (syscall !== undefined) this.syscall = syscall;
  }
}
