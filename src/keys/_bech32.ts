/**
 * Bech32 (BIP 173) as age uses it: the original checksum constant 1 (not
 * Bech32m), no 90-character limit, the checksum always over the lowercase
 * form. Secret strings (`AGE-SECRET-KEY-1…`) decode from a byte view into
 * guarded memory: each character is matched against the whole charset in
 * constant time, the 5-bit groups sit in a guarded work area, and the
 * checksum state is a small integer. Public strings (`age1…`) encode and
 * decode as ordinary strings.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { Bytes, lengthOf } from "../core/_intrinsics.ts";
import { bytes, withWork } from "../crypto/_work.ts";

// Taken at load: a charCodeAt replaced after import chose the characters
// a recipient string decodes from (given "age1…" of one key, it answered
// another's, and ageEncrypt wrapped the file key to that one).
const apply = Reflect.apply;
const charCodeAt = String.prototype.charCodeAt;

/** `text.charCodeAt(i)` through the intrinsic. */
function codeAt(text: string, i: number): number {
  return apply(charCodeAt, text, [i]) as number;
}

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const CODES = Array.from(CHARSET, (c) => c.charCodeAt(0));
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const CHECKSUM_LENGTH = 6;

/** One polymod step; every value stays below 2^30, a small integer. */
function step(chk: number, value: number): number {
  const top = chk >> 25;
  let next = ((chk & 0x1ffffff) << 5) ^ value;
  for (let i = 0; i < 5; i++) next ^= -((top >> i) & 1) & GENERATOR[i];
  return next;
}

/**
 * The polymod after the expanded human-readable part, its ASCII letters
 * folded to lowercase here (no String.prototype.toLowerCase, which could
 * be replaced after import).
 */
function afterPrefix(prefix: string): number {
  let chk = 1;
  for (let i = 0; i < prefix.length; i++) {
    chk = step(chk, lowerCode(codeAt(prefix, i)) >> 5);
  }
  chk = step(chk, 0);
  for (let i = 0; i < prefix.length; i++) {
    chk = step(chk, lowerCode(codeAt(prefix, i)) & 31);
  }
  return chk;
}

/** `c` with an ASCII uppercase letter folded down. */
function lowerCode(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** The 5-bit value of a lowercase character code, or -1; constant time. */
function groupValue(c: number): number {
  let v = -1;
  for (let k = 0; k < 32; k++) {
    const equal = ((c ^ CODES[k]) - 1) >> 31;
    v = (v & ~equal) | (k & equal);
  }
  return v;
}

function invalid(what: string, why: string): SecretMemoryError {
  return new SecretMemoryError(
    "INVALID_KEY",
    `Cannot read ${what}: ${why}`,
  );
}

function checksumError(what: string): SecretMemoryError {
  return new SecretMemoryError(
    "INTEGRITY",
    `Cannot read ${what}: its Bech32 checksum does not match;` +
      " a character was mistyped or the string was cut: copy it again",
  );
}

/**
 * Decodes the Bech32 string in `src[start..end)` whose prefix (the part
 * before the last `1`, compared as written) is `prefix`, and whose data is
 * `out.length` bytes, into `out`. `upper` says the string is all uppercase
 * (an age identity); otherwise all lowercase.
 */
export function decodeSecretBech32Into(
  src: Uint8Array,
  start: number,
  end: number,
  prefix: string,
  upper: boolean,
  out: Uint8Array,
  what: string,
): void {
  // The engine's length, and whole-number arithmetic: `out` is the
  // guarded key, and a length getter or Math.ceil replaced after import
  // would be handed it or could shorten the decoding (leaving key bytes 0).
  const groups = ((lengthOf(out) * 8 + 4) / 5) | 0;
  const head = prefix.length + 1;
  if (end - start !== head + groups + CHECKSUM_LENGTH) {
    throw invalid(
      what,
      `expected ${head + groups + CHECKSUM_LENGTH} characters, found ${
        end - start
      }`,
    );
  }
  for (let i = 0; i < prefix.length; i++) {
    if (src[start + i] !== codeAt(prefix, i)) {
      throw invalid(what, `it does not start with ${prefix}1`);
    }
  }
  if (src[start + prefix.length] !== 0x31) {
    throw invalid(what, `it does not start with ${prefix}1`);
  }
  withWork(groups + CHECKSUM_LENGTH, (area) => {
    const values = bytes(area, 0, groups + CHECKSUM_LENGTH);
    let bad = 0;
    let chk = afterPrefix(prefix);
    // The count, not `values.length`: the groups are an identity's key,
    // and a getter replaced after import would be handed their view.
    for (let i = 0; i < groups + CHECKSUM_LENGTH; i++) {
      const c = src[start + head + i];
      // The alphabet is lowercase letters and digits. Uppercase text has
      // its letters (only them: folding any byte would turn control bytes
      // 0x10-0x19 into digits) folded down; a letter of the other case is
      // refused by the alphabet itself.
      const v = groupValue(upper ? c | (inUpperLetters(c) & 0x20) : c);
      bad |= upper ? inLowerLetters(c) : 0;
      bad |= v >> 31;
      values[i] = v & 31;
      chk = step(chk, v & 31);
    }
    if (bad !== 0) {
      throw invalid(
        what,
        `a character is not in the Bech32 alphabet or not ${
          upper ? "upper" : "lower"
        }case`,
      );
    }
    if (chk !== 1) throw checksumError(what);
    let acc = 0;
    let bits = 0;
    let at = 0;
    for (let i = 0; i < groups; i++) {
      acc = (acc << 5 | values[i]) & 0xfff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[at++] = acc >> bits & 0xff;
      }
    }
    const leftover = acc & ((1 << bits) - 1);
    acc = 0;
    if (leftover !== 0) throw invalid(what, "its padding bits are not zero");
  });
}

/** -1 for A-Z, else 0; no branch on `c`. */
function inUpperLetters(c: number): number {
  return ((0x40 - c) & (c - 0x5b)) >> 31;
}

/** -1 for a-z, else 0; no branch on `c`. */
function inLowerLetters(c: number): number {
  return ((0x60 - c) & (c - 0x7b)) >> 31;
}

/**
 * Bech32 of public `data` under a lowercase `prefix`. By index into a
 * typed array, and built by concatenation: an iterator, `push`, `map` or
 * `join` replaced after import would otherwise choose the string, and an
 * X25519 key's `ageRecipient` (the one a file is encrypted to) with it.
 */
export function encodeBech32(prefix: string, data: Uint8Array): string {
  const length = lengthOf(data);
  const values = new Bytes(
    ((length * 8 + 4) / 5 | 0) + CHECKSUM_LENGTH,
  );
  let count = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < length; i++) {
    acc = (acc << 8 | data[i]) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values[count++] = acc >> bits & 31;
    }
  }
  if (bits > 0) values[count++] = acc << (5 - bits) & 31;
  let chk = afterPrefix(prefix);
  for (let i = 0; i < count; i++) chk = step(chk, values[i]);
  for (let i = 0; i < CHECKSUM_LENGTH; i++) chk = step(chk, 0);
  chk ^= 1;
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    values[count++] = chk >> 5 * (CHECKSUM_LENGTH - 1 - i) & 31;
  }
  let text = prefix + "1";
  for (let i = 0; i < count; i++) text += CHARSET[values[i]];
  return text;
}

/** Decodes a public lowercase Bech32 string of `length` data bytes. */
export function decodePublicBech32(
  text: string,
  prefix: string,
  length: number,
  what: string,
): Uint8Array {
  if (typeof text !== "string") {
    throw invalid(what, `expected a string, got ${typeof text}`);
  }
  const size = text.length;
  const src = new Bytes(size);
  for (let i = 0; i < size; i++) {
    const c = codeAt(text, i);
    if (c > 0x7e || c < 0x21) throw invalid(what, "it is not printable ASCII");
    src[i] = c;
  }
  const out = new Bytes(length);
  decodeSecretBech32Into(src, 0, size, prefix, false, out, what);
  return out;
}
