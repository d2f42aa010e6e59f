/**
 * The cipher core shared by `./crypto`'s encrypt/decrypt and the Enclave:
 * ChaCha20-Poly1305 (RFC 8439 2.8) and XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha 2.3), over one guarded work area per call that
 * holds the subkey, the ChaCha20 state and keystream, and the Poly1305 key
 * and accumulator. Ciphertext is written straight to the caller's output
 * (it is public); plaintext only ever goes to an output the caller chose,
 * which for a secret is guarded memory.
 *
 * @module
 */

import { fillRange, subarrayOf } from "../core/_intrinsics.ts";
import { ChaCha, CHACHA_SIZE } from "./_chacha.ts";
import { Poly1305, POLY1305_SIZE } from "./_poly1305.ts";
import { bytes, withWork } from "./_work.ts";

/** Bytes of key, extended nonce, RFC 8439 nonce and tag. */
export const KEY_SIZE = 32;
export const NONCE_SIZE = 24;
export const IETF_NONCE_SIZE = 12;
export const TAG_SIZE = 16;

/** A byte range of a caller's array, read by index only. */
export interface Span {
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly length: number;
}

/** A whole array as a span (for arrays the library made itself). */
export function spanOf(bytes: Uint8Array, start = 0, length?: number): Span {
  return { bytes, start, length: length ?? bytes.length - start };
}

// Work: | ChaCha | Poly1305 | subkey 32 | nonce 12 + 4 | lengths 16 | tag 16 |
const POLY_AT = CHACHA_SIZE;
const SUBKEY_AT = POLY_AT + POLY1305_SIZE;
const NONCE_AT = SUBKEY_AT + KEY_SIZE;
const LENGTHS_AT = NONCE_AT + 16;
const TAG_AT = LENGTHS_AT + 16;
const WORK_SIZE = TAG_AT + TAG_SIZE;

interface Parts {
  chacha: ChaCha;
  poly: Poly1305;
  area: Uint8Array;
}

function parts(area: Uint8Array): Parts {
  return {
    chacha: new ChaCha(area, 0),
    poly: new Poly1305(area, POLY_AT),
    area,
  };
}

/**
 * Loads the message key and nonce: for a 24-byte nonce, the HChaCha20
 * subkey (into the work area) and the nonce's last 8 bytes after 4 zero
 * bytes; for a 12-byte nonce, the key and nonce as they are. Then takes the
 * Poly1305 key from block 0.
 */
function start(p: Parts, key: Span, nonce: Span): void {
  const { chacha, poly, area } = p;
  const n = subarrayOf(area, NONCE_AT, NONCE_AT + IETF_NONCE_SIZE);
  if (nonce.length === NONCE_SIZE) {
    const b = nonce.bytes, s = nonce.start;
    const counter = (b[s] | b[s + 1] << 8 | b[s + 2] << 16 | b[s + 3] << 24) >>>
      0;
    chacha.init(key.bytes, key.start, counter, b, s + 4);
    chacha.subkeyInto(area, SUBKEY_AT);
    fillRange(n, 0);
    for (let i = 0; i < 8; i++) n[4 + i] = b[s + 16 + i];
    chacha.init(area, SUBKEY_AT, 0, n, 0);
    fillRange(area, 0, SUBKEY_AT, SUBKEY_AT + KEY_SIZE);
  } else {
    chacha.init(key.bytes, key.start, 0, nonce.bytes, nonce.start);
  }
  chacha.next();
  poly.init(chacha.keystream, 0);
}

/** XORs `input` with the keystream from block 1 into `out[outAt ..)`. */
function xor(chacha: ChaCha, input: Span, out: Uint8Array, outAt: number) {
  const ks = chacha.keystream;
  const src = input.bytes;
  for (let done = 0; done < input.length; done += 64) {
    chacha.next();
    const take = Math.min(64, input.length - done);
    const from = input.start + done;
    const to = outAt + done;
    for (let i = 0; i < take; i++) out[to + i] = src[from + i] ^ ks[i];
  }
}

/** The tag over aad and ciphertext into the work area's tag slot. */
function tag(p: Parts, aad: Span, ciphertext: Span): Uint8Array {
  const { poly, area } = p;
  poly.update(aad.bytes, aad.start, aad.start + aad.length, true);
  poly.update(
    ciphertext.bytes,
    ciphertext.start,
    ciphertext.start + ciphertext.length,
    true,
  );
  const lengths = bytes(area, LENGTHS_AT, 16);
  fillRange(lengths, 0);
  putLe64(lengths, 0, aad.length);
  putLe64(lengths, 8, ciphertext.length);
  poly.update(lengths, 0, 16, false);
  const out = bytes(area, TAG_AT, TAG_SIZE);
  poly.finish(out, 0);
  return out;
}

/**
 * Encrypts `plaintext` under `key` (32 bytes) and `nonce` (24 or 12
 * bytes): ciphertext to `out[outAt ..)`, then the 16-byte tag. `out` must
 * not overlap `plaintext`.
 */
export function sealInto(
  key: Span,
  nonce: Span,
  aad: Span,
  plaintext: Span,
  out: Uint8Array,
  outAt: number,
): void {
  withWork(WORK_SIZE, (area) => {
    const p = parts(area);
    start(p, key, nonce);
    xor(p.chacha, plaintext, out, outAt);
    const t = tag(p, aad, spanOf(out, outAt, plaintext.length));
    for (let i = 0; i < TAG_SIZE; i++) out[outAt + plaintext.length + i] = t[i];
  });
}

/**
 * Checks the tag of `sealed` (ciphertext ‖ tag) and only then decrypts it
 * into `out[outAt ..)`. Returns false, writing nothing, if the tag is
 * wrong; the comparison takes the same time wherever the tags differ.
 */
export function openInto(
  key: Span,
  nonce: Span,
  aad: Span,
  sealed: Span,
  out: Uint8Array,
  outAt: number,
): boolean {
  const length = sealed.length - TAG_SIZE;
  if (length < 0) return false;
  return withWork(WORK_SIZE, (area) => {
    const p = parts(area);
    start(p, key, nonce);
    const ciphertext = spanOf(sealed.bytes, sealed.start, length);
    const expected = tag(p, aad, ciphertext);
    let difference = 0;
    for (let i = 0; i < TAG_SIZE; i++) {
      difference |= expected[i] ^ sealed.bytes[sealed.start + length + i];
    }
    if (difference !== 0) return false;
    xor(p.chacha, ciphertext, out, outAt);
    return true;
  });
}

function putLe64(out: Uint8Array, at: number, value: number): void {
  let v = value;
  for (let i = 0; i < 8; i++) {
    out[at + i] = v % 256;
    v = Math.floor(v / 256);
  }
}
