/**
 * Argument checks for the crypto entry. Byte arguments are recognised by
 * the intrinsic `%TypedArray%.prototype` getters, called through
 * references taken at load, so a Proxy, an own `length` property or a
 * patched prototype cannot change what is read; the length is read once.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import {
  BUFFER_OPTION_KEYS,
  checkBufferOptions,
  checkInteger,
  checkOptions,
  describe as describeValue,
} from "../core/_validate.ts";
import {
  isSecretBuffer,
  type SecretBuffer,
  type SecretBufferOptions,
} from "../secret_buffer.ts";
import type { Input } from "./_kdf.ts";

export { checkInteger };
import { type HashAlgorithm, SHA256, SHA512 } from "./_sha2.ts";
import { Bytes } from "../core/_intrinsics.ts";

const apply = Reflect.apply;
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const getter = (target: object, key: PropertyKey) =>
  Object.getOwnPropertyDescriptor(target, key)!.get!;
const tagOf = getter(typedArrayPrototype, Symbol.toStringTag);
const lengthOf = getter(typedArrayPrototype, "length");
const bufferOf = getter(typedArrayPrototype, "buffer");
const detachedOf = Object.getOwnPropertyDescriptor(
  ArrayBuffer.prototype,
  "detached",
)?.get;
const isArrayBuffer = (value: unknown): boolean => {
  try {
    apply(getter(ArrayBuffer.prototype, "byteLength"), value, []);
    return true;
  } catch {
    return false;
  }
};

/** `describe`, even for a Proxy whose traps throw. */
function describe(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return "an object";
  }
}

/** A real `Uint8Array`, not detached, with its length read once. */
export function checkInput(value: unknown, what: string): Input {
  if (apply(tagOf, value, []) !== "Uint8Array") {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${describe(value)} as ${what}: expected a Uint8Array`,
    );
  }
  const length = apply(lengthOf, value, []);
  // A detached view reads as empty. Only then is its buffer asked for: in
  // Bun, and in V8 up to 64 bytes, asking a small heap array for it moves
  // the bytes and leaves the old copy behind, and these bytes may be a
  // secret (a message, a plaintext).
  if (length === 0) {
    const buffer = apply(bufferOf, value, []);
    if (
      detachedOf !== undefined && isArrayBuffer(buffer) &&
      apply(detachedOf, buffer, []) === true
    ) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot use ${what}: its ArrayBuffer was detached (transferred); pass the bytes again`,
      );
    }
  }
  return { bytes: value as Uint8Array, length };
}

/**
 * Checks again, right before the bytes are used, that an input checked
 * earlier is still whole: not detached, its length unchanged (a resizable
 * buffer may have shrunk). Code of the caller's that ran since (a getter,
 * a patched global) could have changed it, and reading it anyway would
 * give an answer over the wrong bytes.
 */
export function checkUnchanged(input: Input, what: string): void {
  // Detached or shrunk, the length shows it (a detached view reads as
  // empty), without asking for the buffer (see checkInput).
  if (apply(lengthOf, input.bytes, []) === input.length) return;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${what}: its bytes were detached or resized while the call read its arguments;` +
      " pass bytes that nothing changes during the call",
  );
}

/** `checkInput`, or no bytes for `undefined`. */
export function optionalInput(value: unknown, what: string): Input {
  return value === undefined
    ? { bytes: new Bytes(0), length: 0 }
    : checkInput(value, what);
}

/** A live SecretBuffer (by brand), with its size. */
export function checkSecret(value: unknown, what: string): SecretBuffer {
  if (!isSecretBuffer(value)) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${describe(value)} as ${what}: expected a SecretBuffer;` +
        " make one with SecretBuffer.from(bytes)",
    );
  }
  if (value.state === "destroyed") {
    throw new SecretMemoryError(
      "DESTROYED",
      `Cannot use ${what}: the SecretBuffer was destroyed`,
    );
  }
  return value;
}

/** A key of at least `min` bytes (and at most `max`). */
export function checkKey(
  value: unknown,
  what: string,
  min: number,
  max = Infinity,
): SecretBuffer {
  const key = checkSecret(value, what);
  if (key.size < min || key.size > max) {
    const expected = max === min
      ? `exactly ${min} bytes`
      : `at least ${min} bytes`;
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use a ${key.size}-byte ${what}: expected ${expected};` +
        " make one with SecretBuffer.random or derive one with hkdf",
    );
  }
  return key;
}

/** The hash named `name`. */
export function checkHash(name: unknown): HashAlgorithm {
  if (name === "SHA-256") return SHA256;
  if (name === "SHA-512") return SHA512;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${describe(name)} as the hash: expected "SHA-256" or "SHA-512"`,
  );
}

/** A params object holding only `known` keys, read once into a copy. */
export function checkParams(
  params: unknown,
  known: readonly string[],
  what: string,
): Record<string, unknown> {
  return checkOptions(params, known, what);
}

/**
 * Checks buffer options before anything is mapped, and hands back a copy
 * read once: defaults stay unset, so a process-wide policy still applies
 * to what is not given.
 */
export function checkOutputOptions(
  options: unknown,
): SecretBufferOptions | undefined {
  if (options === undefined) return undefined;
  const copy = checkOptions(options, BUFFER_OPTION_KEYS, "buffer options");
  checkBufferOptions(copy);
  return copy as SecretBufferOptions;
}

/** An output length: a whole number of bytes from 1 to `max`. */
export function checkLength(value: unknown, max: number, what: string): number {
  return checkInteger(
    value,
    `the output length of ${what}`,
    1,
    max,
    "INVALID_SIZE",
  );
}
