/**
 * Base64 (RFC 4648 section 4) for the key and file formats. Decoding reads
 * from a byte view (the guarded view of a key file, say) and writes into
 * another (a guarded buffer): the characters are mapped to values by
 * arithmetic, with no table indexed by a secret character, and no string
 * or heap array ever holds the bytes. Only canonical encodings decode
 * (unused trailing bits zero), as age requires and OpenSSH writes.
 * Encoding is for public bytes (ciphertexts, public keys, signatures).
 *
 * @module
 */

// Taken at load: decodedMax sizes the buffer a key file is decoded into.
import { Bytes, floor, lengthOf, subarrayOf } from "../core/_intrinsics.ts";

// Taken at load: a charCodeAt replaced after import chose the bytes public
// base64 decodes to (a key line's key, which sshVerify trusts).
const apply = Reflect.apply;
const charCodeAt = String.prototype.charCodeAt;

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const EQUALS = 0x3d;
const LF = 0x0a;
const CR = 0x0d;

/** -1 when `low <= c <= high`, else 0, without a branch. */
function inRange(c: number, low: number, high: number): number {
  return ((low - 1 - c) & (c - high - 1)) >> 31;
}

/** The 6-bit value of character code `c`, or -1, in constant time. */
export function base64Value(c: number): number {
  const upper = inRange(c, 0x41, 0x5a);
  const lower = inRange(c, 0x61, 0x7a);
  const digit = inRange(c, 0x30, 0x39);
  const plus = inRange(c, 0x2b, 0x2b);
  const slash = inRange(c, 0x2f, 0x2f);
  const value = (upper & (c - 0x41)) | (lower & (c - 0x47)) |
    (digit & (c + 4)) | (plus & 62) | (slash & 63);
  return value | ~(upper | lower | digit | plus | slash);
}

/** The most bytes `length` characters of base64 can decode to. */
export function decodedMax(length: number): number {
  return floor(length / 4) * 3 + 3;
}

/** How `decodeBase64Into` reads its input. */
export interface Base64Form {
  /** `=` padding to a multiple of 4 characters is required (PEM). */
  readonly padded: boolean;
  /** Line feeds and carriage returns between characters are skipped. */
  readonly lines: boolean;
}

/**
 * Decodes `src[start..end)` into `out` from `outAt`; returns the number of
 * bytes written, or -1 for a character outside the alphabet, wrong padding
 * or a non-canonical ending. `out` must have room for
 * `decodedMax(end - start)` bytes. On -1, what was written is the caller's
 * to wipe.
 */
export function decodeBase64Into(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outAt: number,
  form: Base64Form,
): number {
  let at = outAt;
  let group = 0;
  let count = 0;
  let pads = 0;
  let bad = 0;
  for (let i = start; i < end; i++) {
    const c = src[i];
    // Line breaks are never a secret character: this branch tells nothing.
    if (form.lines && (c === LF || c === CR)) continue;
    if (c === EQUALS) {
      pads++;
      continue;
    }
    if (pads !== 0) return -1;
    const v = base64Value(c);
    bad |= v;
    group = (group << 6) | (v & 63);
    if (++count % 4 === 0) {
      out[at++] = group >> 16 & 0xff;
      out[at++] = group >> 8 & 0xff;
      out[at++] = group & 0xff;
      group = 0;
    }
  }
  const rest = count % 4;
  if (bad < 0 || rest === 1) return -1;
  if (
    form.padded ? (rest === 0 ? pads !== 0 : pads !== 4 - rest) : pads !== 0
  ) {
    return -1;
  }
  let unused = 0;
  if (rest === 2) {
    out[at++] = group >> 4 & 0xff;
    unused = group & 0x0f;
  } else if (rest === 3) {
    out[at++] = group >> 10 & 0xff;
    out[at++] = group >> 2 & 0xff;
    unused = group & 0x03;
  }
  group = 0;
  return unused === 0 ? at - outAt : -1;
}

/** Decodes public base64 text; undefined if it is not canonical. */
export function decodePublicBase64(
  text: string,
  padded: boolean,
): Uint8Array | undefined {
  const src = new Bytes(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = apply(charCodeAt, text, [i]) as number;
    if (c > 0x7f) return undefined;
    src[i] = c;
  }
  // The engine's length and cut: a `length` or `subarray` replaced on
  // %TypedArray%.prototype after import chose the bytes answered (a key
  // line's key, which sshVerify checks a signature against).
  const length = lengthOf(src);
  const out = new Bytes(decodedMax(length));
  const n = decodeBase64Into(src, 0, length, out, 0, {
    padded,
    lines: false,
  });
  return n < 0 ? undefined : subarrayOf(out, 0, n);
}

/** Base64 of public bytes, with or without `=` padding. */
export function encodeBase64(bytes: Uint8Array, padded: boolean): string {
  let text = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const g = bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2];
    text += ALPHABET[g >> 18] + ALPHABET[g >> 12 & 63] +
      ALPHABET[g >> 6 & 63] + ALPHABET[g & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const g = bytes[i] << 16;
    text += ALPHABET[g >> 18] + ALPHABET[g >> 12 & 63] +
      (padded ? "==" : "");
  } else if (rest === 2) {
    const g = bytes[i] << 16 | bytes[i + 1] << 8;
    text += ALPHABET[g >> 18] + ALPHABET[g >> 12 & 63] +
      ALPHABET[g >> 6 & 63] + (padded ? "=" : "");
  }
  return text;
}

/** `text` cut into lines of `width` characters, each ending in a line feed. */
export function wrapLines(text: string, width: number): string {
  // By index, no slice: one replaced after import wrote another share into
  // an age header (and no one could open the file) or garbled a signature.
  let out = "";
  for (let i = 0; i < text.length; i++) {
    out += text[i];
    if ((i + 1) % width === 0 || i + 1 === text.length) out += "\n";
  }
  return out;
}
