/**
 * Collects input of unknown length in guarded memory: a buffer that grows
 * by doubling into new guarded buffers (native copy, old one destroyed),
 * refuses to pass the caller's maximum, and ends as an exact-size buffer.
 * No byte of the input ever sits in the JavaScript heap here.
 *
 * @module
 */

import { CANARY_SIZE, MAX_SIZE } from "../core/_layout.ts";
import { native } from "../core/_native.ts";
import {
  BUFFER_OPTION_KEYS,
  checkBoolean,
  checkBufferOptions,
  checkChoice,
  checkInteger,
  checkOptions,
  checkSize,
  sourceChanged,
} from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import {
  Bytes,
  copyInto,
  detachBuffer,
  lengthOf,
} from "../core/_intrinsics.ts";
import type {
  GuardedSecret,
  SecretBufferOptions,
  SecretMaker,
} from "../core/_secret.ts";
import { decodeBytes, type InputEncoding } from "./encoding.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
// Taken at load too: replaced, they sized the buffers wrongly and a short
// input was refused as longer than maxSize.
const { max, min } = Math;

/** The default `maxSize` for input of unknown length: 64 KiB. */
export const DEFAULT_MAX_SIZE = 65536;

/** Options for reading input of unknown length into a `SecretBuffer`. */
export interface InputOptions extends SecretBufferOptions {
  /**
   * The most bytes to accept (default 65536). Longer input fails with
   * `TOO_LARGE` and leaves nothing mapped. At most `MAX_SIZE`.
   */
  maxSize?: number;
  /**
   * Drop one line ending at the end of the input (`\n` or `\r\n`), as an
   * editor, `echo` or a Kubernetes secret leaves after a key (default
   * false). Applied before `encoding`.
   */
  trim?: boolean;
  /**
   * Decode the input as text (whitespace and line breaks allowed anywhere)
   * straight into guarded memory: `"hex"`, or `"base64"` (standard or
   * URL-safe). The result holds the decoded bytes. Default: the raw bytes.
   */
  encoding?: InputEncoding;
}

/** Options checked: the maximum, and the rest for the final buffer. */
export interface CheckedInput {
  maxSize: number;
  buffer: SecretBufferOptions;
  trim: boolean;
  encoding?: InputEncoding;
}

/** The options every input of unknown length takes. */
export const INPUT_OPTION_KEYS: readonly string[] = [
  "maxSize",
  "trim",
  "encoding",
  ...BUFFER_OPTION_KEYS,
];

/**
 * Checks `maxSize` and the buffer options, with defaults; each option is
 * read once (see `checkOptions`).
 */
export function checkInputOptions(options: unknown): CheckedInput {
  const {
    maxSize = DEFAULT_MAX_SIZE,
    trim = false,
    encoding,
    ...rest
  } = checkOptions(options, INPUT_OPTION_KEYS);
  return {
    trim: checkBoolean(trim, "trim"),
    encoding: encoding === undefined
      ? undefined
      : checkChoice<InputEncoding>(encoding, ["hex", "base64"], "encoding"),
    maxSize: checkSize(maxSize, "maxSize"),
    // Every buffer option reaches every buffer made for the input (the
    // growing ones too): secret memory asked for is secret memory got.
    buffer: checkBufferOptions(rest),
  };
}

/**
 * A count reported by outside code (a file object's `read` or `write`):
 * a whole number from 0 to `room`, or `INVALID_ARGUMENT`.
 */
export function checkCount(count: unknown, room: number, what: string): number {
  return checkInteger(count, `the byte count ${what} reported`, 0, room);
}

/** The error for input longer than the caller allowed. */
function tooLarge(what: string, maxSize: number): SecretMemoryError {
  return new SecretMemoryError(
    "TOO_LARGE",
    `Cannot read ${what}: it is longer than maxSize (${maxSize} bytes); pass a larger { maxSize } if this input is expected`,
  );
}

/**
 * A guarded buffer that input is appended to. Its capacity doubles, up to
 * one byte past `maxSize`: a read that lands there tells input that goes
 * on from input that ends at `maxSize`, and is refused with `TOO_LARGE`,
 * so the extra byte too only ever lands in guarded pages. `finish()`
 * returns an exact-size copy and destroys the rest. While it lives the
 * pages stay writable (`protect("readwrite")`), so that a native read can
 * land in them; `finish()` and `discard()` close them.
 */
export class Accumulator<S extends GuardedSecret> {
  readonly #maker: SecretMaker<S>;
  #buffer: S;
  #length = 0;
  readonly #maxSize: number;
  readonly #options: SecretBufferOptions;
  readonly #what: string;
  readonly #trim: boolean;
  readonly #encoding: InputEncoding | undefined;

  /**
   * @param maker Makes the guarded buffers (the class's own `alloc`).
   * @param what Names the input in errors, for example `the file /x`.
   * @param checked The checked options.
   */
  constructor(maker: SecretMaker<S>, what: string, checked: CheckedInput) {
    this.#maker = maker;
    this.#what = what;
    this.#maxSize = checked.maxSize;
    this.#options = checked.buffer;
    this.#trim = checked.trim;
    this.#encoding = checked.encoding;
    // One data page holds a passphrase or a key: most input never grows.
    const first = min(
      checked.maxSize + 1,
      native().pageSize - CANARY_SIZE,
    );
    this.#buffer = this.#open(first);
  }

  /** Bytes collected so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Makes room for at least `needed` more bytes (at most `wanted`), growing
   * if needed, and returns the free space's address and length.
   */
  space(wanted = Infinity, needed = 1): { address: bigint; length: number } {
    if (this.#buffer.size - this.#length < needed) this.#grow(needed);
    const length = min(wanted, this.#buffer.size - this.#length);
    return { address: this.#buffer.address + BigInt(this.#length), length };
  }

  /**
   * Records `count` bytes written into the space last given. A count that
   * outside code reported is checked against that space first.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` for a count that is not
   * a whole number from 0 to the free space; `TOO_LARGE` past `maxSize`.
   */
  advance(count: number): void {
    checkCount(count, this.#buffer.size - this.#length, this.#what);
    this.#length += count;
    if (this.#length > this.#maxSize) throw tooLarge(this.#what, this.#maxSize);
  }

  /**
   * Reads once from `fd` (read(2) straight into the pages), at most
   * `wanted` bytes. Returns the count read, 0 at end of input; throws
   * `TOO_LARGE` if input goes on past `maxSize`.
   */
  readFrom(fd: number, wanted = Infinity): number {
    const free = this.space(wanted);
    const count = native().readInto(fd, free.address, free.length);
    this.advance(count);
    return count;
  }

  /**
   * Copies `chunk` in, or throws `TOO_LARGE` when it does not fit. The
   * chunk is the caller's to wipe. `length`, when given, is the chunk's
   * length as the caller already measured it: the bytes copied are the
   * bytes counted, whatever another thread does to the chunk meanwhile.
   */
  // The default is the engine's length, read once: the chunk may be a
  // caller's object with an own `length`.
  append(chunk: Uint8Array, length: number = lengthOf(chunk)): void {
    if (length > this.#maxSize - this.#length) {
      throw tooLarge(this.#what, this.#maxSize);
    }
    if (length === 0) return;
    const free = this.space(length, length);
    const view = native().view(free.address, length);
    // Never ask the chunk for its buffer, nor cut it with subarray: on a
    // small heap array either makes JavaScriptCore move the bytes and
    // leave the old copy in the heap. The whole chunk goes in with one
    // set(), which reads each byte once, and only `length` bytes: a chunk
    // over a growable SharedArrayBuffer that another thread grows
    // meanwhile is refused, never copied past what was measured. One over
    // a resizable buffer may have shrunk since it was measured (an await
    // lies between, for a stream's answer): set() would copy fewer bytes
    // than are counted, and keep zeros the input never held.
    try {
      if (lengthOf(chunk) !== length) throw new RangeError("chunk resized");
      copyInto(new Bytes(view), chunk);
    } catch (cause) {
      throw sourceChanged(cause);
    } finally {
      // Nothing may keep a way into pages that will be unmapped.
      detachBuffer(view);
    }
    this.#length += length;
  }

  /**
   * Reads one byte from `fd` into the next free slot without keeping it:
   * returns its value, or -1 at end of input. Call `advance(1)` to keep
   * it, `forgetByte()` to wipe it.
   */
  readByte(fd: number): number {
    const free = this.space(1);
    if (native().readInto(fd, free.address, 1) === 0) return -1;
    return this.#buffer.view[this.#length];
  }

  /** The last byte kept (the buffer must not be empty). */
  lastByte(): number {
    return this.#buffer.view[this.#length - 1];
  }

  /**
   * Wipes the first free slot: the one `readByte` filled, for a byte that
   * is not kept, or the one `dropLast` just gave up.
   */
  forgetByte(): void {
    native().wipe(this.#buffer.address + BigInt(this.#length), 1);
  }

  /** Removes the last byte (backspace); false if there was none. */
  dropLast(): boolean {
    if (this.#length === 0) return false;
    this.#length--;
    this.forgetByte();
    return true;
  }

  /**
   * The collected bytes in an exact-size buffer (less a trimmed line
   * ending, or decoded from text); this one is destroyed.
   */
  finish(): S {
    try {
      const buffer = this.#buffer;
      let length = this.#length;
      if (this.#trim && length > 0 && buffer.view[length - 1] === 0x0a) {
        length--;
        if (length > 0 && buffer.view[length - 1] === 0x0d) length--;
      }
      if (this.#encoding !== undefined) {
        return decodeBytes(
          this.#maker,
          buffer.view,
          length,
          this.#encoding,
          this.#what,
          this.#options,
        );
      }
      const result = this.#maker.alloc(length, this.#options);
      if (length > 0) {
        const from = buffer.address;
        result.write(() => native().copy(result.address, from, length));
      }
      return result;
    } finally {
      this.discard();
    }
  }

  /** Wipes and unmaps everything collected. Safe to call again. */
  discard(): void {
    this.#buffer.destroy();
  }

  #open(size: number): S {
    const buffer = this.#maker.alloc(size, { ...this.#options });
    buffer.protect("readwrite");
    return buffer;
  }

  #grow(needed: number): void {
    const size = min(
      this.#maxSize + 1,
      MAX_SIZE,
      max(this.#buffer.size * 2, this.#length + needed),
    );
    // Full at MAX_SIZE: the byte past a maxSize of MAX_SIZE has no room.
    if (size - this.#length < needed) throw tooLarge(this.#what, this.#maxSize);
    const next = this.#open(size);
    native().copy(next.address, this.#buffer.address, this.#length);
    this.#buffer.destroy();
    this.#buffer = next;
  }
}
