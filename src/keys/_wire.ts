/**
 * The SSH wire encoding (RFC 4251 section 5) that OpenSSH's key files and
 * signatures use: a reader that walks a byte view (guarded or not) and
 * hands back ranges of it, never copies, and a writer for public blobs.
 *
 * @module
 */

import {
  SecretMemoryError,
  type SecretMemoryErrorCode,
} from "../core/errors.ts";
import { append, Bytes, copyInto, lengthOf } from "../core/_intrinsics.ts";

// Taken at load: a charCodeAt replaced after import chose the bytes of a
// namespace or a key type that ascii() writes (sshSign's key then signed
// another namespace's blob) and the answer of rangeIs.
const apply = Reflect.apply;
const charCodeAt = String.prototype.charCodeAt;

/** `text.charCodeAt(i)` through the intrinsic. */
function codeAt(text: string, i: number): number {
  return apply(charCodeAt, text, [i]) as number;
}

/** A range of a view. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** Reads fields from `bytes[start..end)`; each read checks the bounds. */
export class WireReader {
  readonly bytes: Uint8Array;
  #at: number;
  readonly #end: number;
  readonly #what: string;
  readonly #code: SecretMemoryErrorCode;

  /** `code` is what a truncated or garbled field throws. */
  constructor(
    bytes: Uint8Array,
    start: number,
    end: number,
    what: string,
    code: SecretMemoryErrorCode = "INVALID_KEY",
  ) {
    this.bytes = bytes;
    this.#code = code;
    this.#at = start;
    this.#end = end;
    this.#what = what;
  }

  /** Where the next read starts. */
  get at(): number {
    return this.#at;
  }

  /** Bytes not read yet. */
  get left(): number {
    return this.#end - this.#at;
  }

  /** A truncation or garbling error naming the value read. */
  fail(why: string): SecretMemoryError {
    return new SecretMemoryError(
      this.#code,
      `Cannot read ${this.#what}: ${why}`,
    );
  }

  /** The next `length` bytes as a range. */
  take(length: number, field: string): Range {
    if (length > this.left) {
      throw this.fail(`it ends inside the ${field} (truncated?)`);
    }
    const start = this.#at;
    this.#at += length;
    return { start, end: this.#at };
  }

  /** A big-endian uint32 (a length or a count: public). */
  uint32(field: string): number {
    const r = this.take(4, field);
    const b = this.bytes;
    return (b[r.start] * 0x1000000) +
      (b[r.start + 1] << 16 | b[r.start + 2] << 8 | b[r.start + 3]);
  }

  /** A length-prefixed string, as a range. */
  string(field: string): Range {
    const length = this.uint32(`${field} length`);
    return this.take(length, field);
  }

  /** A string that must equal the ASCII `expected`; false if it differs. */
  stringIs(expected: string, field: string): boolean {
    const r = this.string(field);
    return rangeIs(this.bytes, r, expected);
  }
}

/** Whether `bytes[range]` is the ASCII text `expected`. */
export function rangeIs(
  bytes: Uint8Array,
  range: Range,
  expected: string,
): boolean {
  if (range.end - range.start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (bytes[range.start + i] !== codeAt(expected, i)) return false;
  }
  return true;
}

/** Public bytes of a range as text (names, comments: never secrets). */
export function rangeText(bytes: Uint8Array, range: Range): string {
  let text = "";
  for (let i = range.start; i < range.end; i++) {
    const c = bytes[i];
    text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "?";
  }
  return text;
}

/** Builds a public wire blob. */
export class WireWriter {
  #parts: Uint8Array[] = [];
  #length = 0;

  /** Appends raw bytes. */
  raw(bytes: Uint8Array): this {
    // Own elements, read back by index: a push or iterator replaced after
    // import could swap a part, and sshSign's key would sign a digest of
    // the replacement's choosing.
    append(this.#parts, bytes);
    this.#length += lengthOf(bytes);
    return this;
  }

  /** Appends a uint32. */
  uint32(value: number): this {
    const b = new Bytes(4);
    b[0] = value >>> 24;
    b[1] = value >>> 16 & 0xff;
    b[2] = value >>> 8 & 0xff;
    b[3] = value & 0xff;
    return this.raw(b);
  }

  /** Appends a length-prefixed string of bytes or ASCII text. */
  string(value: Uint8Array | string): this {
    const bytes = typeof value === "string" ? ascii(value) : value;
    return this.uint32(lengthOf(bytes)).raw(bytes);
  }

  /** The blob. */
  done(): Uint8Array {
    const out = new Bytes(this.#length);
    let at = 0;
    for (let i = 0; i < this.#parts.length; i++) {
      const part = this.#parts[i];
      // By the set taken at load: one replaced after import could write
      // bytes of its own choosing into the blob sshSign's key signs.
      copyInto(out, part, at);
      at += lengthOf(part);
    }
    return out;
  }
}

/** The bytes of an ASCII string; any other character is refused. */
export function ascii(text: string): Uint8Array {
  const out = new Bytes(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = codeAt(text, i);
    if (c > 0x7f) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot write ${
          JSON.stringify(text)
        } into an SSH or age field: only ASCII characters are accepted`,
      );
    }
    out[i] = c;
  }
  return out;
}
