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

import { fillRange, keep, lengthOf, lookUp } from "../core/_intrinsics.ts";
import { ChaCha, CHACHA_SIZE } from "./_chacha.ts";
import { Poly1305, POLY1305_SIZE } from "./_poly1305.ts";
import { type Area, bytes, withArea } from "./_work.ts";

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
  // The engine's length: `bytes` may be a key or a plaintext in the work
  // area, and a getter replaced after import would be handed it.
  return { bytes, start, length: length ?? lengthOf(bytes) - start };
}

// Work: | ChaCha | Poly1305 | subkey 32 | nonce 12 + 4 | lengths 16 |
//       | tag 16 | ciphertext block 64 |
const POLY_AT = CHACHA_SIZE;
const SUBKEY_AT = POLY_AT + POLY1305_SIZE;
const NONCE_AT = SUBKEY_AT + KEY_SIZE;
const LENGTHS_AT = NONCE_AT + 16;
const TAG_AT = LENGTHS_AT + 16;
const BLOCK_AT = TAG_AT + TAG_SIZE;
/** Work-area bytes the cipher core uses. */
export const WORK_SIZE = BLOCK_AT + 64;

interface Parts {
  chacha: ChaCha;
  poly: Poly1305;
  area: Uint8Array;
  /** One ciphertext block, read once from the caller's bytes. */
  block: Uint8Array;
  nonce: Uint8Array;
  lengths: Uint8Array;
  tag: Uint8Array;
}

// The key under which an area keeps this module's parts.
const KIT = Object.freeze({ kit: "aead" });

/** The cipher parts over `area`, built once per area. */
function parts(area: Area): Parts {
  let p = lookUp(area.kits, KIT) as Parts | undefined;
  if (p === undefined) {
    p = {
      chacha: new ChaCha(area.bytes, 0),
      poly: new Poly1305(area.bytes, POLY_AT),
      area: area.bytes,
      block: bytes(area.bytes, BLOCK_AT, 64),
      nonce: bytes(area.bytes, NONCE_AT, IETF_NONCE_SIZE),
      lengths: bytes(area.bytes, LENGTHS_AT, 16),
      tag: bytes(area.bytes, TAG_AT, TAG_SIZE),
    };
    keep(area.kits, KIT, p);
  }
  return p;
}

/**
 * Loads the message key and nonce: for a 24-byte nonce, the HChaCha20
 * subkey (into the work area) and the nonce's last 8 bytes after 4 zero
 * bytes; for a 12-byte nonce, the key and nonce as they are. Then takes the
 * Poly1305 key from block 0.
 */
function start(p: Parts, key: Span, nonce: Span): void {
  const { chacha, poly, area } = p;
  const n = p.nonce;
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
    // No Math.min: replaced after import, it could leave bytes unsealed.
    const take = input.length - done < 64 ? input.length - done : 64;
    const from = input.start + done;
    const to = outAt + done;
    for (let i = 0; i < take; i++) out[to + i] = src[from + i] ^ ks[i];
  }
}

/** The tag over aad and ciphertext into the work area's tag slot. */
function tag(p: Parts, aad: Span, ciphertext: Span): Uint8Array {
  const { poly } = p;
  poly.update(aad.bytes, aad.start, aad.start + aad.length, true);
  poly.update(
    ciphertext.bytes,
    ciphertext.start,
    ciphertext.start + ciphertext.length,
    true,
  );
  return lengthsAndTag(p, aad.length, ciphertext.length);
}

/** Absorbs the two lengths and finishes the tag, into the work area. */
function lengthsAndTag(p: Parts, aad: number, ciphertext: number): Uint8Array {
  const { poly, lengths } = p;
  fillRange(lengths, 0);
  putLe64(lengths, 0, aad);
  putLe64(lengths, 8, ciphertext);
  poly.update(lengths, 0, 16, false);
  const out = p.tag;
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
  withArea((area) => {
    const p = parts(area);
    start(p, key, nonce);
    xor(p.chacha, plaintext, out, outAt);
    const t = tag(p, aad, spanOf(out, outAt, plaintext.length));
    for (let i = 0; i < TAG_SIZE; i++) out[outAt + plaintext.length + i] = t[i];
  });
}

/**
 * Checks the tag of `sealed` (ciphertext ‖ tag) and decrypts it into
 * `out[outAt ..)`, reading each byte of `sealed` exactly once: a block is
 * copied into the work area, and both the tag and the plaintext are
 * computed from that copy. So bytes that change while they are read (a
 * SharedArrayBuffer another thread writes) can never give plaintext the
 * tag did not cover. `out` must be guarded memory of the library's own:
 * it holds the plaintext before the tag is known, and if the tag is wrong
 * it is zeroed and false returned. The comparison takes the same time
 * wherever the tags differ.
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
  return withArea((area) => {
    const p = parts(area);
    const { chacha, poly, block } = p;
    start(p, key, nonce);
    poly.update(aad.bytes, aad.start, aad.start + aad.length, true);
    const src = sealed.bytes;
    const ks = chacha.keystream;
    for (let done = 0; done < length; done += 64) {
      const take = length - done < 64 ? length - done : 64;
      const from = sealed.start + done;
      for (let i = 0; i < take; i++) block[i] = src[from + i];
      // Only the last block can be partial: padding it is the AEAD's pad16.
      poly.update(block, 0, take, true);
      chacha.next();
      const to = outAt + done;
      for (let i = 0; i < take; i++) out[to + i] = block[i] ^ ks[i];
    }
    const expected = lengthsAndTag(p, aad.length, length);
    let difference = 0;
    const tagAt = sealed.start + length;
    for (let i = 0; i < TAG_SIZE; i++) {
      difference |= expected[i] ^ src[tagAt + i];
    }
    if (difference === 0) return true;
    fillRange(out, 0, outAt, outAt + length);
    return false;
  });
}

function putLe64(out: Uint8Array, at: number, value: number): void {
  let v = value;
  for (let i = 0; i < 8; i++) {
    const byte = v % 256;
    out[at + i] = byte;
    // No Math.floor: replaced after import, it could encode two lengths
    // alike, and moving bytes from the additional data to the ciphertext
    // would keep the tag.
    v = (v - byte) / 256;
  }
}
