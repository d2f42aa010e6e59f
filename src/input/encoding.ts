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
// Taken at load: the size of a decoded secret is counted with it, and a
// replacement made later cut a 32-byte key to 4 bytes, unannounced.
import { floor } from "../core/_intrinsics.ts";
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

/** Whether `c` is whitespace as JavaScript's `\s` knows it (Unicode's). */
function isWhitespace(c: number): boolean {
  return /\s/.test(String.fromCharCode(c));
}

/** -1 for ASCII whitespace (space, \t, \n, \v, \f, \r), else 0. */
function whitespaceMask(c: number): number {
  return inRange(c, 0x09, 0x0d) | inRange(c, 0x20, 0x20);
}

/** "1 character", "5 characters". */
function characters(count: number): string {
  return count === 1 ? "1 character" : `${count} characters`;
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

/** The encodings input of unknown length may be decoded from. */
export type InputEncoding = "hex" | "base64";

/**
 * Decodes `length` characters of hex or base64 (standard or URL-safe),
 * `at(i)` being the code of the i-th, into a new guarded buffer. A string
 * (`fromHex`, `fromBase64`) takes no whitespace; a key file read into
 * guarded pages (`spaces`) takes whitespace and line breaks anywhere, and
 * nothing of it passes through a string or the heap. Every character is
 * decoded, bad ones remembered in one flag, so that the time taken does
 * not tell where a bad one was; only once decoding has failed is the text
 * read again to say what is wrong. Errors name a character outside the
 * alphabet and its position, never a digit.
 */
function decode<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  at: (i: number) => number,
  length: number,
  encoding: InputEncoding,
  spaces: boolean,
  what: string,
  options?: SecretBufferOptions,
): S {
  const hex = encoding === "hex";
  const space = spaces ? whitespaceMask : () => 0;
  let digits = length;
  if (spaces) { for (let i = 0; i < length; i++) digits += space(at(i)); }
  // Up to two "=" close base64 (whitespace aside); only the text's end is
  // looked at, so no branch depends on a digit.
  let padding = 0;
  for (let i = length - 1; !hex && i >= 0 && padding < 2; i--) {
    const c = at(i);
    if (c === 0x3d) padding++;
    else if (space(c) === 0) break;
  }
  const significant = digits - padding;
  const whole = hex
    ? digits % 2 === 0
    : significant % 4 !== 1 && (padding === 0 || digits % 4 === 0);
  const where = spaces ? "byte" : "index";
  const error = (): SecretMemoryError => {
    const fail = (reason: string) =>
      new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot decode ${what}${spaces ? ` as ${encoding}` : ""}: ${reason}`,
      );
    let last = -1;
    for (let i = 0, seen = 0; i < length; i++) {
      const c = at(i);
      if (space(c) !== 0) continue;
      if (++seen === significant) last = i;
      const value = hex ? hexValue(c) : base64Value(c);
      if (value !== -1 || (!hex && c === 0x3d && seen > significant)) continue;
      if (c === 0x3d) {
        return fail(
          `padding ("=") at ${where} ${i} is not at the end: = may only close the text, at most twice`,
        );
      }
      const found = `${nameCharacter(c)} at ${where} ${i} is not ${
        hex
          ? "a hex digit (0-9, a-f, A-F)"
          : "a base64 character (A-Z, a-z, 0-9, + and /, or - and _)"
      }`;
      if (!spaces && isWhitespace(c)) {
        return fail(
          `${found}: whitespace and line breaks are not accepted; remove them first (for example text.replace(/\\s+/g, ""))`,
        );
      }
      const prefix = hex && length > 1 && at(0) === 0x30 &&
        (at(1) | 0x20) === 0x78;
      return fail(found + (prefix ? "; drop the 0x prefix" : ""));
    }
    const count = `${characters(digits)}${spaces ? " (whitespace aside)" : ""}`;
    if (hex && !whole) {
      return fail(
        `${count} is an odd number: every byte is two hex digits, so one is missing or extra (check for truncation)`,
      );
    }
    if (!whole) {
      return fail(
        `${count} cannot be whole base64: ${
          significant % 4 === 1
            ? "its last group of 4 has a single character, 6 bits: less than a byte"
            : "padded base64 comes in groups of 4 characters"
        }; check for truncation or a wrong count of = at the end`,
      );
    }
    return fail(
      `the last character (${where} ${last}) has unused bits set, so this is not the canonical encoding of any bytes; check for truncation, or re-encode with a standard encoder`,
    );
  };
  if (!whole) throw error();
  const step = hex ? 4 : 6;
  return decodeInto(
    maker,
    floor(significant * step / 8),
    options,
    (view) => {
      let wrong = 0;
      let bits = 0;
      let held = 0;
      let out = 0;
      let seen = 0;
      for (let i = 0; i < length; i++) {
        const c = at(i);
        // Skipped: whitespace, and base64's closing padding.
        const skip = space(c) |
          (inRange(seen, significant, digits) & inRange(c, 0x3d, 0x3d));
        seen += 1 & ~space(c);
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
      // Canonical base64 leaves the unused low bits zero.
      const unused = bits & ((1 << held) - 1);
      wrong |= (unused | -unused) >> 31;
      return wrong === 0;
    },
    error,
  );
}

/** See `SecretBuffer.fromHex`. */
export function fromHex<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: string,
  options?: SecretBufferOptions,
): S {
  const hex = checkText(text, "hex");
  const at = (i: number) => codeAt(hex, i);
  return decode(maker, at, hex.length, "hex", false, "hex", options);
}

/** See `SecretBuffer.fromBase64`. */
export function fromBase64<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: string,
  options?: SecretBufferOptions,
): S {
  const base64 = checkText(text, "base64");
  const at = (i: number) => codeAt(base64, i);
  return decode(maker, at, base64.length, "base64", false, "base64", options);
}

/**
 * Decodes `length` bytes of hex or base64 text at the start of `text`, a
 * view of secmem's own guarded pages (so reading it twice, count then
 * decode, cannot race with a caller), whitespace allowed anywhere.
 */
export function decodeBytes<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  text: Uint8Array,
  length: number,
  encoding: InputEncoding,
  what: string,
  options?: SecretBufferOptions,
): S {
  return decode(maker, (i) => text[i], length, encoding, true, what, options);
}

// Taken at load: a prototype patched later must not be handed the view.
const apply = Reflect.apply;
const charCodeAt = String.prototype.charCodeAt;

/**
 * `text.charCodeAt(i)` through the intrinsic: a String.prototype.charCodeAt
 * replaced after import would be called on the secret text itself.
 */
function codeAt(text: string, i: number): number {
  return apply(charCodeAt, text, [i]);
}

const encoder = new TextEncoder();
const encodeInto = TextEncoder.prototype.encodeInto;

/** UTF-8 length of `text`, as `encodeInto` writes it (lone surrogates: 3). */
function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = codeAt(text, i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = codeAt(text, i + 1);
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
    () =>
      new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot decode text: the UTF-8 length changed while encoding",
      ),
  );
}
