/**
 * HMAC (RFC 2104, RFC 4231 vectors) and HKDF (RFC 5869) over secmem's own
 * SHA-256 and SHA-512, with every key-derived state in guarded memory.
 *
 * @module
 */

import { subarrayOf } from "../core/_intrinsics.ts";
import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import { Hmac } from "./_hmac.ts";
import { hkdfInto } from "./_kdf.ts";
import {
  checkHash,
  checkInput,
  checkKey,
  checkLength,
  checkOutputOptions,
  checkParams,
  checkSecret,
  optionalInput,
} from "./_input.ts";
import { withWork } from "./_work.ts";
import { isSecretBuffer } from "../secret_buffer.ts";

/** The hash functions `hmac` and `hkdf` take. */
export type HashName = "SHA-256" | "SHA-512";

/** The shortest key `hmac` accepts, in bytes (128 bits). */
export const MIN_KEY_SIZE = 16;

/**
 * The HMAC of `data` under `key`. The key, the padded key blocks and both
 * hash states stay in guarded memory; the MAC itself is returned as an
 * ordinary array (a MAC is not secret).
 *
 * @param hash `"SHA-256"` or `"SHA-512"`.
 * @param key The key, at least 16 bytes.
 * @param data The message: bytes, or another SecretBuffer (read in place).
 * @returns The 32- or 64-byte MAC.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for an unknown hash, a
 * short key or data that is not bytes; `DESTROYED` for a destroyed buffer.
 *
 * @example Sign a message
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { hmac } from "@secmem/secmem/crypto";
 *
 * using key = SecretBuffer.random(32);
 * const tag = hmac("SHA-256", key, new TextEncoder().encode("hello"));
 * if (tag.length !== 32) throw new Error("expected 32 bytes");
 * ```
 */
export function hmac(
  hash: HashName,
  key: SecretBuffer,
  data: Uint8Array | SecretBuffer,
): Uint8Array {
  const algorithm = checkHash(hash);
  const secret = checkKey(key, "HMAC key", MIN_KEY_SIZE);
  const message = isSecretBuffer(data)
    ? checkSecret(data, "HMAC data")
    : checkInput(data, "HMAC data");
  const out = new Uint8Array(algorithm.outputLength);
  withWork(Hmac.size(algorithm) + algorithm.outputLength, (area) => {
    const mac = new Hmac(algorithm, area, 0);
    secret.read((k) => mac.init(k, 0, secret.size));
    if (isSecretBuffer(message)) {
      message.read((bytes) => mac.update(bytes, 0, message.size));
    } else {
      mac.update(message.bytes, 0, message.length);
    }
    const tag = subarrayOf(area, Hmac.size(algorithm));
    mac.finish(tag, 0);
    for (let i = 0; i < out.length; i++) out[i] = tag[i];
  });
  return out;
}

/** HKDF's salt, context and output length. */
export interface HkdfParams {
  /** Salt (public); default: a hash length of zeros. */
  salt?: Uint8Array;
  /** Context and application information (public); default: empty. */
  info?: Uint8Array;
  /** Output bytes, 1 to 255 × the hash length. */
  length: number;
}

/**
 * HKDF-Extract and -Expand (RFC 5869): derives `length` bytes from `ikm`
 * into a fresh guarded buffer. The pseudorandom key and every T(i) block
 * stay in guarded memory.
 *
 * @param hash `"SHA-256"` or `"SHA-512"`.
 * @param ikm The input keying material.
 * @param params `salt`, `info`, and `length`.
 * @param options Options for the new buffer (lock, placement, backend).
 * @returns A new SecretBuffer of `length` bytes, at rest.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for an unknown hash or a
 * salt or info that is not bytes; `INVALID_SIZE` for a length outside
 * 1..255 × hash length; `DESTROYED`; and what `SecretBuffer.alloc` throws.
 *
 * @example Two keys from one secret
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { hkdf } from "@secmem/secmem/crypto";
 *
 * using master = SecretBuffer.random(32);
 * const info = new TextEncoder().encode("encryption");
 * using key = hkdf("SHA-256", master, { info, length: 32 });
 * if (key.size !== 32) throw new Error("expected 32 bytes");
 * ```
 */
export function hkdf(
  hash: HashName,
  ikm: SecretBuffer,
  params: HkdfParams,
  options?: SecretBufferOptions,
): SecretBuffer {
  const algorithm = checkHash(hash);
  // The params and options first: their getters are the caller's code, and
  // run before the salt and info are measured.
  const p = checkParams(params, ["salt", "info", "length"], "HKDF params");
  const outOptions = checkOutputOptions(options);
  const input = checkSecret(ikm, "HKDF input key");
  const salt = optionalInput(p.salt, "the HKDF salt");
  const info = optionalInput(p.info, "the HKDF info");
  const length = checkLength(
    p.length,
    255 * algorithm.outputLength,
    `HKDF-${algorithm.name} (at most 255 × the hash length)`,
  );
  const out = SecretBuffer.alloc(length, outOptions);
  try {
    out.write((okm) =>
      input.read((k) => hkdfInto(algorithm, k, input.size, salt, info, okm))
    );
  } catch (error) {
    out.destroy();
    throw error;
  }
  return out;
}
