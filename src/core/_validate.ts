/**
 * Argument checks. Each returns what it checked, so a caller reads
 * `const size = checkSize(input)`, and builds its message only on failure.
 *
 * @module
 */

import { SecretMemoryError, type SecretMemoryErrorCode } from "./errors.ts";
import { MAX_SIZE, type Placement } from "./_layout.ts";
import { defaultLock, type LockPolicy } from "./_policy.ts";

export type { LockPolicy };
import {
  copyInto,
  isInteger,
  isUint8Array,
  keysOf,
  lengthOf,
  listed,
} from "./_intrinsics.ts";

/**
 * A whole number from `min` to `max`, or `code` thrown with a message that
 * names `what` and says what was expected (by default, that range). The
 * one integer check of the library: sizes, indices, counts and parameters.
 */
export function checkInteger(
  value: unknown,
  what: string,
  min: number,
  max: number,
  code: SecretMemoryErrorCode = "INVALID_ARGUMENT",
  expected?: string,
): number {
  if (
    typeof value === "number" && isInteger(value) && value >= min &&
    value <= max
  ) {
    return value;
  }
  throw new SecretMemoryError(
    code,
    `Cannot use ${describe(value)} as ${what}: ${
      expected ?? `expected a whole number from ${min} to ${max}`
    }`,
  );
}

const SIZE_EXPECTED = `expected a whole number of bytes from 0 to ${MAX_SIZE}`;

/** A byte count: a whole number from 0 to `MAX_SIZE`. */
export function checkSize(size: unknown, what = "size"): number {
  return checkInteger(size, what, 0, MAX_SIZE, "INVALID_SIZE", SIZE_EXPECTED);
}

/** A callback. */
export function checkFunction<T extends (...args: never[]) => unknown>(
  fn: T,
  what: string,
): T {
  if (typeof fn === "function") return fn;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot call ${what}: expected a function, got ${describe(fn)}`,
  );
}

/** A true/false option. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value === "boolean") return value;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${describe(value)} as ${what}: expected true or false`,
  );
}

/**
 * A `Uint8Array` source of bytes: a genuine one, by the engine's own tag
 * (a Proxy of one, or an object made from its prototype, is refused).
 */
export function checkBytes(bytes: unknown, what: string): Uint8Array {
  if (isUint8Array(bytes)) return bytes;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot read ${what}: expected a Uint8Array, got ${describe(bytes)}; ${
      typeof bytes === "string"
        ? "text goes in with SecretBuffer.fromText, fromHex or fromBase64"
        : "wrap an ArrayBuffer in new Uint8Array(buffer) (a Node Buffer is one already)"
    }`,
  );
}

/**
 * The error for a source whose length changed while it was copied (a
 * length-tracking view over a growable SharedArrayBuffer, resized by
 * another thread).
 */
export function sourceChanged(cause?: unknown): SecretMemoryError {
  return new SecretMemoryError(
    "INVALID_ARGUMENT",
    "Cannot copy the source bytes: their length changed while they were copied" +
      " (a growable SharedArrayBuffer); pass bytes no other thread resizes",
    { cause },
  );
}

/**
 * Copies all of `source` into `target`, which has room for exactly `size`
 * bytes, the length `source` was measured at: a source another thread
 * resized since must fail the copy, never run past the target.
 */
export function copySource(
  target: Uint8Array,
  source: Uint8Array,
  size: number,
): void {
  if (lengthOf(source) !== size) throw sourceChanged();
  // An empty source may be detached, which the copy would refuse.
  if (size === 0) return;
  try {
    copyInto(target, source);
  } catch (cause) {
    throw sourceChanged(cause);
  }
}

/**
 * What backs the data pages: anonymous pages, memfd_secret(2) pages, or
 * secret memory where the kernel gives it and anonymous pages elsewhere.
 */
export type MemoryBackend = "anonymous" | "secretmem" | "auto";

/** Options shared by every constructor, checked and with defaults. */
export interface CheckedOptions {
  lock: LockPolicy;
  placement: Placement;
  backend: MemoryBackend;
}

/** One option whose value must be one of `allowed`. */
export function checkChoice<T extends string>(
  value: unknown,
  allowed: readonly T[],
  what: string,
): T {
  if (listed(allowed, value)) return value as T;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${describe(value)} as ${what}: expected ${
      joined(allowed, " or ", '"')
    }`,
  );
}

/**
 * `list` joined by `separator`, each item in `quote`s; by index, so that
 * a replaced `map` or `join` cannot turn a refusal into its own error.
 */
function joined(
  list: readonly string[],
  separator: string,
  quote = "",
): string {
  let text = "";
  for (let i = 0; i < list.length; i++) {
    text += `${i === 0 ? "" : separator}${quote}${list[i]}${quote}`;
  }
  return text;
}

/**
 * The options object itself, read once into a copy with no prototype:
 * undefined or an object whose own enumerable keys are all `known` (an
 * inherited property is no option). Each option is read exactly once (a getter may answer differently twice), so what
 * is checked is what is used; a getter or a Proxy trap that throws is the
 * caller's object failing, and arrives as `INVALID_ARGUMENT` with the
 * original as `cause`, before anything is mapped.
 */
export function checkOptions(
  options: unknown,
  known: readonly string[],
  what = "options",
): Record<string, unknown> {
  if (options === undefined) return { __proto__: null };
  if (typeof options !== "object" || options === null) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${describe(options)} as ${what}: expected an object`,
    );
  }
  try {
    // A misspelt option must not quietly fall back to its default: a typo
    // in `lock` would otherwise give the caller the policy they didn't ask.
    // Indexed, and through the built-ins taken at load: a replaced
    // iterator, `find` or `Object.keys` must not hide a key.
    const given = keysOf(options);
    for (let i = 0; i < given.length; i++) {
      if (listed(known, given[i])) continue;
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot use option ${
          JSON.stringify(given[i])
        } in the ${what}: expected ${joined(known, ", ")}`,
      );
    }
    // Only the caller's own keys, the ones just checked, into a copy with
    // no prototype: an option planted on Object.prototype (a polluted
    // prototype) must not answer for one the caller left out, here or when
    // a default is destructured from the copy.
    const copy: Record<string, unknown> = { __proto__: null };
    for (let i = 0; i < given.length; i++) {
      const value = (options as Record<string, unknown>)[given[i]];
      if (value !== undefined) copy[given[i]] = value;
    }
    return copy;
  } catch (cause) {
    throw readFailed(`the ${what}`, "a plain object", cause);
  }
}

/**
 * The error for a caller's value whose getter or Proxy trap threw while it
 * was read (or a revoked Proxy): `INVALID_ARGUMENT`, with the caller's own
 * error as `cause`. A SecretMemoryError raised by a check is passed on.
 */
export function readFailed(
  what: string,
  expected: string,
  cause: unknown,
): SecretMemoryError {
  if (cause instanceof SecretMemoryError) return cause;
  return new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot read ${what}: reading it threw; pass ${expected}`,
    { cause },
  );
}

/**
 * A `lock` option: `"required"` or `"best-effort"`; unset, the process-wide
 * policy (`configure`, `SECMEM_LOCK`) as it stands now.
 */
export function checkLock(lock: unknown): LockPolicy {
  return lock === undefined
    ? defaultLock()
    : checkChoice(lock, ["required", "best-effort"], "lock");
}

/** The options every buffer constructor takes. */
export const BUFFER_OPTION_KEYS: readonly string[] = [
  "lock",
  "placement",
  "backend",
];

/**
 * Lock, placement and backend options with their defaults; no others.
 */
export function checkBufferOptions(options: unknown): CheckedOptions {
  const { lock, placement = "end", backend = "anonymous" } = checkOptions(
    options,
    BUFFER_OPTION_KEYS,
  );
  return {
    lock: checkLock(lock),
    placement: checkChoice(placement, ["end", "start"], "placement"),
    backend: checkChoice(
      backend,
      ["anonymous", "secretmem", "auto"],
      "backend",
    ),
  };
}

/** A short, content-free description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return `a string of length ${value.length}`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    // Never ask the value itself: a getter or a Proxy trap could throw, or
    // answer differently each time. The intrinsic tag is the engine's own.
    if (isUint8Array(value)) return "a Uint8Array";
    return "an object";
  }
  return typeof value;
}
