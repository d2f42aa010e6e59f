/**
 * HMAC (RFC 2104, RFC 4231 vectors) and HKDF (RFC 5869) over secmem's own
 * SHA-256 and SHA-512, with every key-derived state in guarded memory.
 *
 * @module
 */

import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import { checkBoolean } from "../core/_validate.ts";
import { Hmac, hmacIn } from "./_hmac.ts";
import { hkdfInto, type Input } from "./_kdf.ts";
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
import { withArea } from "./_work.ts";
import { isSecretBuffer } from "../secret_buffer.ts";
import { Bytes } from "../core/_intrinsics.ts";

/** The hash functions `hmac` and `hkdf` take. */
export type HashName = "SHA-256" | "SHA-512";

/**
 * The shortest key `hmac` accepts by default, in bytes (128 bits): a
 * shorter key can be found by trying keys, whatever the hash.
 */
export const MIN_KEY_SIZE = 16;

/** Options of `hmac`, `hmacVerify` and `hmacKey`. */
export interface HmacOptions {
  /**
   * Accept a key shorter than 16 bytes (default `false`). Such a key can
   * be guessed by trying keys; accept one only to verify MACs made under a
   * key you cannot change (many HS256 secrets in use are short).
   */
  allowShortKey?: boolean;
}

/** The key's least size under `allowShortKey`, read from checked options. */
export function minKeySize(allowShortKey: unknown): number {
  if (allowShortKey === undefined) return MIN_KEY_SIZE;
  return checkBoolean(allowShortKey, "allowShortKey") ? 1 : MIN_KEY_SIZE;
}

/** The message of an HMAC call: caller bytes, or a SecretBuffer. */
export type MacData = Input | SecretBuffer;

/** `data`, checked: a SecretBuffer (by brand) or a Uint8Array. */
export function checkData(data: unknown, what: string): MacData {
  return isSecretBuffer(data)
    ? checkSecret(data, what)
    : checkInput(data, what);
}

/** Absorbs the message, each byte read once. */
export function absorb(mac: Hmac, data: MacData): void {
  if (isSecretBuffer(data)) {
    const size = data.size;
    data.read((bytes) => mac.update(bytes, 0, size));
  } else {
    mac.update(data.bytes, 0, data.length);
  }
}

/**
 * Compares the MAC in `area[at .. at + length)` with the caller's `tag`,
 * reading each byte of the tag once, without a branch on any byte: the
 * time depends only on the lengths, which are public.
 */
export function tagMatches(
  area: Uint8Array,
  at: number,
  length: number,
  tag: Input,
): boolean {
  if (tag.length !== length) return false;
  const theirs = tag.bytes;
  let difference = 0;
  for (let i = 0; i < length; i++) difference |= area[at + i] ^ theirs[i];
  return difference === 0;
}

/** The MAC under a key read in its own scope, to `out[at ..)`. */
function keyed(
  secret: SecretBuffer,
  data: MacData,
  out: Uint8Array,
  at: number,
  mac: Hmac,
): void {
  const size = secret.size;
  secret.read((k) => mac.init(k, 0, size));
  absorb(mac, data);
  mac.finish(out, at);
}

/**
 * The HMAC of `data` under `key`. The key, the padded key blocks and both
 * hash states stay in guarded memory; the MAC itself is returned as an
 * ordinary array (a MAC is not secret). For many MACs under one key,
 * `hmacKey` does the key's work once.
 *
 * @param hash `"SHA-256"` or `"SHA-512"`.
 * @param key The key, at least 16 bytes (unless `allowShortKey`).
 * @param data The message: bytes, or another SecretBuffer (read in place).
 * @param options `allowShortKey`.
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
  options?: HmacOptions,
): Uint8Array {
  const algorithm = checkHash(hash);
  const o = checkParams(options, ["allowShortKey"], "HMAC options");
  const secret = checkKey(key, "HMAC key", minKeySize(o.allowShortKey));
  const message = checkData(data, "HMAC data");
  const out = new Bytes(algorithm.outputLength);
  withArea((area) => keyed(secret, message, out, 0, hmacIn(area, algorithm)));
  return out;
}

/**
 * Checks that `tag` is the HMAC of `data` under `key`. The MAC is computed
 * in guarded memory and compared there with `tag` in time that depends
 * only on the lengths (no branch on a byte); it never reaches the heap.
 *
 * @param hash `"SHA-256"` or `"SHA-512"`.
 * @param key The key, at least 16 bytes (unless `allowShortKey`).
 * @param data The message: bytes, or a SecretBuffer.
 * @param tag The MAC to check; one of another length is simply wrong.
 * @param options `allowShortKey`.
 * @returns Whether `tag` is the MAC.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for an unknown hash, a
 * short key, or data or a tag that is not bytes; `DESTROYED`.
 *
 * @example Check a webhook's signature
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { hmac, hmacVerify } from "@secmem/secmem/crypto";
 *
 * using key = SecretBuffer.random(32);
 * const body = new TextEncoder().encode("{}");
 * const tag = hmac("SHA-256", key, body);
 * if (!hmacVerify("SHA-256", key, body, tag)) throw new Error("rejected");
 * ```
 */
export function hmacVerify(
  hash: HashName,
  key: SecretBuffer,
  data: Uint8Array | SecretBuffer,
  tag: Uint8Array,
  options?: HmacOptions,
): boolean {
  const algorithm = checkHash(hash);
  const o = checkParams(options, ["allowShortKey"], "HMAC options");
  const secret = checkKey(key, "HMAC key", minKeySize(o.allowShortKey));
  const message = checkData(data, "HMAC data");
  const theirs = checkInput(tag, "the tag");
  const at = Hmac.size(algorithm);
  return withArea((area) => {
    keyed(secret, message, area.bytes, at, hmacIn(area, algorithm));
    return tagMatches(area.bytes, at, algorithm.outputLength, theirs);
  });
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
  // Expand reads the info once per output block: a snapshot, so that bytes
  // another thread changes meanwhile cannot give blocks of two infos (the
  // salt is read once). Info is public: the heap is fine for it.
  const info = snapshot(optionalInput(p.info, "the HKDF info"));
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

function snapshot(input: Input): Input {
  const copy = new Bytes(input.length);
  const from = input.bytes;
  for (let i = 0; i < input.length; i++) copy[i] = from[i];
  return { bytes: copy, length: input.length };
}
