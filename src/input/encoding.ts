/**
 * Text into guarded pages: UTF-8 through `TextEncoder.encodeInto` straight
 * into the view, and hex and base64 decoded a character at a time into the
 * view (no `atob`, which would make another string, and no lookup table
 * indexed by secret characters). The source string itself is the caller's:
 * JavaScript strings are immutable and can never be wiped.
 *
 * @module
 */

import { describe } from "../core/_validate.ts";
import { MAX_SIZE } from "../core/_layout.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { lengthOf } from "../core/_intrinsics.ts";
import type {
  GuardedSecret,
  SecretBufferOptions,
  SecretMaker,
} from "../core/_secret.ts";

/** -1 when `low <= c <= high`, else 0; no branch on `c`. */
function inRange(c: number, low: number, high: number): number {
  return ~((c - low) | (high - c)) >> 31;
}

/** A hex digit's value, or -1 (as all bits) for any other character. */
function hexValue(c: number): number {
  const digit = inRange(c, 0x30, 0x39);
  const upper = inRange(c, 0x41, 0x46);
  const lower = inRange(c, 0x61, 0x66);
  const value = (digit & (c - 0x30)) | (upper & (c - 0x41 + 10)) |
    (lower & (c - 0x61 + 10));
  return value | ~(digit | upper | lower);
}

/**
 * A base64 character's value (standard `+/` or URL-safe `-_`), or -1 for
 * any other character.
 */
function base64Value(c: number): number {
  const upper = inRange(c, 0x41, 0x5a);
  const lower = inRange(c, 0x61, 0x7a);
  const digit = inRange(c, 0x30, 0x39);
  const plus = inRange(c, 0x2b, 0x2b) | inRange(c, 0x2d, 0x2d);
  const slash = inRange(c, 0x2f, 0x2f) | inRange(c, 0x5f, 0x5f);
  const value = (upper & (c - 0x41)) | (lower & (c - 0x61 + 26)) |
    (digit & (c - 0x30 + 52)) | (plus & 62) | (slash & 63);
  return value | ~(upper | lower | digit | plus | slash);
}

function checkText(text: unknown, what: string): string {
  if (typeof text === "string") return text;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot decode ${
      describe(text)
    } as ${what}: expected a string (bytes go in with SecretBuffer.from)`,
  );
}

/**
 * A character named for an error message. Only characters outside the
 * encoding's alphabet are ever named, so no digit of the secret is shown.
 */
function nameCharacter(c: number): string {
  const hex = c.toString(16).toUpperCase().padStart(4, "0");
  if (c === 0x0a) return "a newline (\\n)";
  if (c === 0x0d) return "a carriage return (\\r)";
  if (c === 0x09) return "a tab (\\t)";
  if (c === 0x20) return "a space";
  if (isWhitespace(c)) return `a whitespace character (U+${hex})`;
  if (c > 0x20 && c < 0x7f) {
    return `the character ${JSON.stringify(String.fromCharCode(c))}`;
  }
  return `the character U+${hex}`;
}

function isWhitespace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 ||
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 ||
    c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 ||
    c === 0xfeff;
}

/**
 * The reason for the first character of `text` that `valid` refuses, or
 * undefined. Run only once decoding has failed: the time it takes tells
 * where the bad character is, which the message says anyway.
 */
function badCharacter(
  text: string,
  valid: (c: number, index: number) => boolean,
  what: string,
): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (valid(c, i)) continue;
    if (c === 0x3d) {
      return `padding ("=") at index ${i} is not at the end: = may only close the text, at most twice`;
    }
    const found = `${nameCharacter(c)} at index ${i} is not ${what}`;
    if (isWhitespace(c)) {
      return `${found}: whitespace and line breaks are not accepted; remove them first (for example text.replace(/\\s+/g, ""))`;
    }
    return found;
  }
  return undefined;
}

/** "1 character", "5 characters". */
function characters(count: number): string {
  return count === 1 ? "1 character" : `${count} characters`;
}

function invalid(what: string, reason: string): SecretMemoryError {
  return new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot decode ${what}: ${reason}`,
  );
}

/**
 * Allocates `size` bytes and lets `decode` fill them; `decode` returns
 * false for bad input, and the half-written buffer is then destroyed
 * (wiped and unmapped) before the error is thrown.
 */
function decodeInto<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  size: number,
  options: SecretBufferOptions | undefined,
  decode: (view: Uint8Array) => boolean,
  error: () => SecretMemoryError,
): S {
  if (size > MAX_SIZE) {
    throw new SecretMemoryError(
      "TOO_LARGE",
      `Cannot decode ${size} bytes: the largest buffer is ${MAX_SIZE} bytes`,
    );
  }
  const buffer = maker.alloc(size, options);
  let ok = false;
  try {
    ok = buffer.write(decode);
  } finally {
    if (!ok) buffer.destroy();
  }
  if (!ok) throw error();
  return buffer;
}

/** See `SecretBuffer.fromHex`. */
export function fromHex<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: string,
  options?: SecretBufferOptions,
): S {
  const hex = checkText(text, "hex");
  if (hex.length % 2 !== 0) throw hexError(hex);
  return decodeInto(
    maker,
    hex.length / 2,
    options,
    (view) => {
      // Decode everything, remembering any bad character in one flag, so
      // that the time taken does not tell where a bad character was.
      let bad = 0;
      const length = lengthOf(view);
      for (let i = 0; i < length; i++) {
        const high = hexValue(hex.charCodeAt(2 * i));
        const low = hexValue(hex.charCodeAt(2 * i + 1));
        bad |= (high | low) >> 31;
        view[i] = (high << 4) | low;
      }
      return bad === 0;
    },
    () => hexError(hex),
  );
}

/** What is wrong with `hex`, which failed to decode: a character, or its length. */
function hexError(hex: string): SecretMemoryError {
  const bad = badCharacter(
    hex,
    (c) => hexValue(c) !== -1,
    "a hex digit (0-9, a-f, A-F)",
  );
  if (bad !== undefined) {
    const prefix = hex.length > 1 && hex.charCodeAt(0) === 0x30 &&
        (hex.charCodeAt(1) | 0x20) === 0x78
      ? "; drop the 0x prefix"
      : "";
    return invalid("hex", bad + prefix);
  }
  return invalid(
    "hex",
    `${
      characters(hex.length)
    } is an odd number: every byte is two hex digits, so one is missing or extra (check for truncation)`,
  );
}

/** See `SecretBuffer.fromBase64`. */
export function fromBase64<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: string,
  options?: SecretBufferOptions,
): S {
  const base64 = checkText(text, "base64");
  let length = base64.length;
  // Up to two padding characters; padded input comes in whole quads.
  if (length > 0 && base64.charCodeAt(length - 1) === 0x3d) length--;
  if (length > 0 && base64.charCodeAt(length - 1) === 0x3d) length--;
  const padded = length !== base64.length;
  if (length % 4 === 1 || (padded && base64.length % 4 !== 0)) {
    throw base64Error(base64, length);
  }
  const size = Math.floor(length * 3 / 4);
  return decodeInto(
    maker,
    size,
    options,
    (view) => {
      let bad = 0;
      let bits = 0;
      let held = 0;
      let out = 0;
      for (let i = 0; i < length; i++) {
        const value = base64Value(base64.charCodeAt(i));
        bad |= value >> 31;
        bits = ((bits << 6) | (value & 63)) & 0xffffff;
        held += 6;
        if (held >= 8) {
          held -= 8;
          view[out++] = (bits >> held) & 0xff;
        }
      }
      // Canonical encodings leave the unused low bits zero.
      const unused = bits & ((1 << held) - 1);
      bad |= (unused | -unused) >> 31;
      return bad === 0;
    },
    () => base64Error(base64, length),
  );
}

/**
 * What is wrong with `base64`, which failed to decode (`length` characters
 * before its padding): a character, its length, or its last character's
 * unused bits. The last is never named: it is a digit of the secret.
 */
function base64Error(base64: string, length: number): SecretMemoryError {
  const bad = badCharacter(
    base64,
    (c, i) => base64Value(c) !== -1 || (c === 0x3d && i >= length),
    "a base64 character (A-Z, a-z, 0-9, + and /, or - and _)",
  );
  if (bad !== undefined) return invalid("base64", bad);
  if (
    length % 4 === 1 || (length !== base64.length && base64.length % 4 !== 0)
  ) {
    return invalid(
      "base64",
      `${characters(base64.length)} cannot be whole base64: ${
        length % 4 === 1
          ? "its last group of 4 has a single character, 6 bits: less than a byte"
          : "padded base64 comes in groups of 4 characters"
      }; check for truncation or a wrong count of = at the end`,
    );
  }
  return invalid(
    "base64",
    `the last character (index ${
      length - 1
    }) has unused bits set, so this is not the canonical encoding of any bytes; check for truncation, or re-encode with a standard encoder`,
  );
}

// Taken at load: a prototype patched later must not be handed the view.
const apply = Reflect.apply;
const encoder = new TextEncoder();
const encodeInto = TextEncoder.prototype.encodeInto;

/** UTF-8 length of `text`, as `encodeInto` writes it (lone surrogates: 3). */
function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else {
        length += 3;
      }
    } else length += 3;
  }
  return length;
}

/** See `SecretBuffer.fromText`. */
export function fromText<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: string,
  options?: SecretBufferOptions,
): S {
  const source = checkText(text, "text");
  const size = utf8Length(source);
  return decodeInto(
    maker,
    size,
    options,
    (view) => apply(encodeInto, encoder, [source, view]).written === size,
    () => invalid("text", "the UTF-8 length changed while encoding"),
  );
}

/** The encodings input of unknown length may be decoded from. */
export type InputEncoding = "hex" | "base64";

/** -1 for ASCII whitespace (space, \t, \n, \v, \f, \r), else 0. */
function whitespaceMask(c: number): number {
  return inRange(c, 0x09, 0x0d) | inRange(c, 0x20, 0x20);
}

/**
 * Decodes `length` bytes of hex or base64 text at the start of `text` (a
 * view of guarded pages: a key file as people write them, whitespace and
 * line breaks allowed anywhere) into a new guarded buffer. Nothing passes
 * through a string or the heap. The text is secmem's own memory, so reading
 * it twice (count, then decode) cannot race with a caller. Errors name the
 * position of a character outside the alphabet, never a digit.
 */
export function decodeBytes<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: Uint8Array,
  length: number,
  encoding: InputEncoding,
  what: string,
  options?: SecretBufferOptions,
): S {
  const hex = encoding === "hex";
  // Pass 1: the digits that count, and the padding that closes base64.
  let digits = 0;
  let padding = 0;
  for (let i = 0; i < length; i++) {
    const c = text[i];
    if (whitespaceMask(c) !== 0) continue;
    digits++;
    if (!hex && c === 0x3d) padding++;
    else if (padding > 0) padding = 3; // "=" before the end: refused below
  }
  const significant = digits - (hex ? 0 : padding);
  const bad = (reason: string) =>
    invalid(`${what} as ${encoding}`, `${reason}`);
  if (hex && digits % 2 !== 0) {
    throw bad(
      `${
        characters(digits)
      } (whitespace aside) is an odd number: every byte is two hex digits`,
    );
  }
  if (
    !hex &&
    (padding > 2 || significant % 4 === 1 || (padding > 0 && digits % 4 !== 0))
  ) {
    throw bad(
      `${
        characters(digits)
      } (whitespace aside) cannot be whole base64: check for truncation or a misplaced =`,
    );
  }
  const size = hex ? digits / 2 : Math.floor(significant * 3 / 4);
  return decodeInto(
    maker,
    size,
    options,
    (view) => {
      let wrong = 0;
      let bits = 0;
      let held = 0;
      let out = 0;
      let seen = 0;
      const step = hex ? 4 : 6;
      for (let i = 0; i < length; i++) {
        const c = text[i];
        const space = whitespaceMask(c);
        // Skipped: whitespace, and base64's closing padding.
        const skip = space |
          (hex
            ? 0
            : inRange(seen, significant, digits) & inRange(c, 0x3d, 0x3d));
        seen += 1 & ~space;
        const value = hex ? hexValue(c) : base64Value(c);
        wrong |= value >> 31 & ~skip;
        bits = (((bits << step) | (value & ((1 << step) - 1))) & ~skip |
          bits & skip) & 0xffffff;
        held += step & ~skip;
        if (held >= 8) {
          held -= 8;
          view[out++] = (bits >> held) & 0xff;
        }
      }
      const unused = bits & ((1 << held) - 1);
      if (!hex) wrong |= (unused | -unused) >> 31;
      return wrong === 0;
    },
    () => {
      // Only now, after decoding failed: where the first bad character is.
      for (let i = 0, seen = 0; i < length; i++) {
        const c = text[i];
        if (whitespaceMask(c) !== 0) continue;
        seen++;
        const ok = hex ? hexValue(c) !== -1 : base64Value(c) !== -1 ||
          (c === 0x3d && seen > significant);
        if (!ok) {
          return bad(
            `${nameCharacter(c)} at byte ${i} is not ${
              hex ? "a hex digit" : "a base64 character"
            }`,
          );
        }
      }
      return bad(
        "the last character has unused bits set: not the canonical encoding of any bytes; check for truncation",
      );
    },
  );
}
