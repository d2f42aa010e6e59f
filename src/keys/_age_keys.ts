/**
 * age's X25519 key strings: identities (`AGE-SECRET-KEY-1…`, uppercase
 * Bech32 of the 32-byte scalar), read from a SecretBuffer into guarded
 * memory, and recipients (`age1…`, lowercase Bech32 of the public key).
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import {
  decodePublicBech32,
  decodeSecretBech32Into,
  encodeBech32,
} from "./_bech32.ts";

const IDENTITY_PREFIX = "AGE-SECRET-KEY-";
const RECIPIENT_PREFIX = "age";
const WHAT = "the age identity";

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}

/**
 * Reads the one `AGE-SECRET-KEY-1…` line of `text`: the line alone, or an
 * identity file as `age-keygen` writes it (`#` comment lines and blank
 * lines are skipped). A file with two identities is refused: this reads
 * one key. Returns the 32-byte scalar in a new SecretBuffer at rest.
 */
export function readAgeIdentity(
  text: SecretBuffer,
  options?: SecretBufferOptions,
): SecretBuffer {
  return text.read((view) => {
    const size = text.size;
    let found = -1;
    let foundEnd = -1;
    for (let line = 0; line < size;) {
      let next = line;
      while (next < size && view[next] !== 0x0a) next++;
      let start = line;
      let end = next;
      while (start < end && isBlank(view[start])) start++;
      while (end > start && isBlank(view[end - 1])) end--;
      if (start < end && view[start] !== 0x23) {
        if (found >= 0) {
          throw new SecretMemoryError(
            "INVALID_ARGUMENT",
            `Cannot read ${WHAT}: the text holds more than one key line;` +
              " pass one AGE-SECRET-KEY-1… line",
          );
        }
        found = start;
        foundEnd = end;
      }
      line = next + 1;
    }
    if (found < 0) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot read ${WHAT}: no AGE-SECRET-KEY-1… line (only comments or blanks)`,
      );
    }
    const out = SecretBuffer.alloc(32, options);
    try {
      out.write((scalar) =>
        decodeSecretBech32Into(
          view,
          found,
          foundEnd,
          IDENTITY_PREFIX,
          true,
          scalar,
          WHAT,
        )
      );
    } catch (error) {
      out.destroy();
      throw error;
    }
    return out;
  });
}

/** The `age1…` recipient string of an X25519 public key. */
export function ageRecipientOf(publicKey: Uint8Array): string {
  return encodeBech32(RECIPIENT_PREFIX, publicKey);
}

/** The X25519 public key of an `age1…` recipient string. */
export function parseAgeRecipient(recipient: string): Uint8Array {
  return decodePublicBech32(
    recipient,
    RECIPIENT_PREFIX,
    32,
    `the age recipient ${
      typeof recipient === "string" ? JSON.stringify(recipient) : ""
    }`.trimEnd(),
  );
}
