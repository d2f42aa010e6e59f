/**
 * The ssh-agent protocol (draft-miller-ssh-agent) as both ends use it: the
 * message numbers, the frame (uint32 length ‖ byte type ‖ contents) and a
 * frame reader that takes a byte stream in pieces of any size. Pure
 * JavaScript: the client imports it without FFI.
 *
 * ```
 * frame: uint32 length (1..MAX_FRAME) ‖ byte type ‖ length - 1 bytes
 * ```
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import {
  Buffers,
  Bytes,
  copyInto,
  lengthOf,
  subarrayOf,
  zero,
} from "../core/_intrinsics.ts";

/** Message numbers from draft-miller-ssh-agent, section 6.1. */
export const MSG = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
  ADD_IDENTITY: 17,
  REMOVE_IDENTITY: 18,
  REMOVE_ALL_IDENTITIES: 19,
  LOCK: 22,
  UNLOCK: 23,
  ADD_ID_CONSTRAINED: 25,
  EXTENSION: 27,
  EXTENSION_FAILURE: 28,
} as const;

/** Key constraints (section 6.3 of the draft). */
export const CONSTRAIN = {
  LIFETIME: 1,
  CONFIRM: 2,
  EXTENSION: 255,
} as const;

/**
 * The largest frame either end accepts, 256 KiB (OpenSSH's own cap).
 * A larger length closes the connection: nothing is buffered for it.
 */
export const MAX_FRAME = 256 * 1024;

/**
 * The most plaintext `encrypt@secmem` takes: its answer (type byte, the
 * string's length, then nonce ‖ ciphertext ‖ tag, 40 bytes more than the
 * plaintext as `./crypto`'s encrypt makes it) must fit in one frame, or
 * the client would have to drop the connection over it.
 */
export const MAX_SEALED_PLAINTEXT: number = MAX_FRAME - 1 - 4 - 40;

/** The extensions of ours, all under the `@secmem` namespace. */
export const EXT = {
  QUERY: "query",
  ADD_SECRET: "add-secret@secmem",
  GENERATE_SECRET: "generate-secret@secmem",
  REMOVE_SECRET: "remove-secret@secmem",
  LIST_SECRETS: "list-secrets@secmem",
  GENERATE_KEY: "generate-key@secmem",
  HMAC: "hmac@secmem",
  ENCRYPT: "encrypt@secmem",
  DECRYPT: "decrypt@secmem",
} as const;

/** The key type this agent holds. */
export const ED25519 = "ssh-ed25519";

/**
 * A zeroed array over its own ArrayBuffer, for bytes that may hold a
 * secret. JavaScriptCore (Bun) keeps a small `new Uint8Array(n)` inline
 * and, the first time its `.buffer` is needed (a `subarray`, for one),
 * copies the bytes out to a new buffer and leaves the old storage as it
 * was, unwiped: a frame's key would survive there. An array made over an
 * ArrayBuffer from the start is never moved.
 */
export function secretBytes(length: number): Uint8Array {
  return new Bytes(new Buffers(length));
}

/**
 * A copy of `view` in a new array of its own, by the intrinsics (a
 * replaced `slice` would be handed the bytes: a reply's plaintext).
 */
export function copyOf(view: Uint8Array): Uint8Array {
  const copy = secretBytes(lengthOf(view));
  copyInto(copy, view);
  return copy;
}

/**
 * The smaller of two counts, with no call to `Math.min` (replaced after
 * import, it could make a copy run short or long).
 */
function least(a: number, b: number): number {
  return a < b ? a : b;
}

/** Writes the 4-byte big-endian `value` at `at`. */
export function putUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Reads the 4-byte big-endian value at `at`. */
export function getUint32(bytes: Uint8Array, at: number): number {
  return bytes[at] * 0x1000000 +
    ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
}

/**
 * Cuts a byte stream into frames. Bytes are copied out of each chunk into
 * a body buffer of the declared length (never more than `MAX_FRAME`), so
 * memory per connection is bounded whatever the peer sends; the caller
 * wipes each chunk and each body once used.
 */
export class FrameReader {
  readonly #header = secretBytes(4);
  #headerFill = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  readonly #max: number;

  constructor(max: number = MAX_FRAME) {
    this.#max = max;
  }

  /** Bytes of an unfinished frame held now. */
  get pending(): number {
    return this.#headerFill + this.#bodyFill;
  }

  /**
   * Takes `chunk`; calls `onFrame` with each complete body (type byte
   * first), which the reader wipes when `onFrame` returns. Returns false
   * when a frame declares a length of 0 or above the cap: the stream is
   * beyond repair and the connection must close.
   */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => void): boolean {
    // Every copy and wipe of a frame's bytes goes through the intrinsics:
    // the bytes may be a key being added, and a typed-array method
    // replaced after import would be handed them (or skip the wipe).
    const end = lengthOf(chunk);
    let at = 0;
    while (at < end) {
      if (this.#body === undefined) {
        const take = least(4 - this.#headerFill, end - at);
        copyInto(
          this.#header,
          subarrayOf(chunk, at, at + take),
          this.#headerFill,
        );
        this.#headerFill += take;
        at += take;
        if (this.#headerFill < 4) break;
        const length = getUint32(this.#header, 0);
        zero(this.#header);
        this.#headerFill = 0;
        if (length === 0 || length > this.#max) return false;
        this.#body = secretBytes(length);
        this.#bodyFill = 0;
        continue;
      }
      const body = this.#body;
      const take = least(lengthOf(body) - this.#bodyFill, end - at);
      copyInto(body, subarrayOf(chunk, at, at + take), this.#bodyFill);
      this.#bodyFill += take;
      at += take;
      if (this.#bodyFill < lengthOf(body)) break;
      this.#body = undefined;
      this.#bodyFill = 0;
      try {
        onFrame(body);
      } finally {
        zero(body);
      }
    }
    return true;
  }

  /** Wipes whatever part of a frame is held. */
  clear(): void {
    zero(this.#header);
    this.#headerFill = 0;
    if (this.#body !== undefined) zero(this.#body);
    this.#body = undefined;
    this.#bodyFill = 0;
  }
}

/** Builds one frame: the length is filled in by `frame()`. */
export class FrameWriter {
  #bytes: Uint8Array;
  #at = 4;

  constructor(type: number, capacity = 64) {
    this.#bytes = secretBytes(capacity > 8 ? capacity : 8);
    this.byte(type);
  }

  #room(n: number): void {
    if (this.#at + n <= lengthOf(this.#bytes)) return;
    let size = lengthOf(this.#bytes) * 2;
    while (size < this.#at + n) size *= 2;
    const grown = secretBytes(size);
    copyInto(grown, subarrayOf(this.#bytes, 0, this.#at));
    // The old array may have held a secret (a key being added).
    zero(this.#bytes);
    this.#bytes = grown;
  }

  /** Appends one byte. */
  byte(value: number): this {
    this.#room(1);
    this.#bytes[this.#at++] = value;
    return this;
  }

  /** Appends a uint32. */
  uint32(value: number): this {
    this.#room(4);
    putUint32(this.#bytes, this.#at, value);
    this.#at += 4;
    return this;
  }

  /**
   * Appends a length-prefixed string of bytes, or of text as UTF-8 (what
   * the other side decodes). Text that UTF-8 cannot carry (a lone
   * surrogate) is refused: it would arrive as another name.
   */
  string(value: Uint8Array | string): this {
    if (typeof value === "string") value = utf8(value);
    // The engine's length, read once, and the intrinsic copy: an own
    // `length` or `set` on the caller's array cannot make the length
    // field and the bytes after it disagree.
    const length = lengthOf(value);
    this.uint32(length);
    this.#room(length);
    copyInto(this.#bytes, value, this.#at);
    this.#at += length;
    return this;
  }

  /**
   * Appends a length-prefixed string of `length` bytes that `fill` writes
   * in place (so a secret goes straight from its guarded view into the
   * frame, with no intermediate copy).
   */
  stringWith(length: number, fill: (out: Uint8Array) => void): this {
    this.uint32(length);
    this.#room(length);
    fill(subarrayOf(this.#bytes, this.#at, this.#at + length));
    this.#at += length;
    return this;
  }

  /** The whole frame, length first. */
  frame(): Uint8Array {
    putUint32(this.#bytes, 0, this.#at - 4);
    return subarrayOf(this.#bytes, 0, this.#at);
  }
}

// ignoreBOM: a leading EF BB BF stays part of the name. Stripped, the
// bytes of "\uFEFFx" would name the secret "x" (removing it, say).
const strictDecoder = new TextDecoder("utf-8", {
  fatal: true,
  ignoreBOM: true,
});
const encoder = new TextEncoder();
// Decode and encode as they were at load: replaced after import, a decode
// answered another secret's or key's name for the one a request gave, and
// the agent used (or removed) that one instead.
const apply = Reflect.apply;
const decodeText = TextDecoder.prototype.decode;
const encodeText = TextEncoder.prototype.encode;

/** `bytes` as strict UTF-8 text; throws on bytes that are not UTF-8. */
function strictText(bytes: Uint8Array): string {
  return apply(decodeText, strictDecoder, [bytes]) as string;
}

/** `text` as UTF-8 bytes. */
export function encodeUtf8(text: string): Uint8Array {
  return apply(encodeText, encoder, [text]) as Uint8Array;
}

/** `text` as UTF-8, refusing what would not decode back to the same text. */
function utf8(text: string): Uint8Array {
  const bytes = encodeUtf8(text);
  let back: string | undefined;
  try {
    back = strictText(bytes);
  } catch {
    back = undefined;
  }
  if (back !== text) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot send a name or comment that is not well-formed text (a lone surrogate): it would reach the agent as another name",
    );
  }
  return bytes;
}

/**
 * A field a message cannot hold. The agent answers it with a failure; the
 * client hands it to the app as INPUT_ERROR (a peer that is not our agent,
 * or a reply cut short), the code every other bad reply gets.
 */
function garbled(what: string): SecretMemoryError {
  return new SecretMemoryError("INPUT_ERROR", `Cannot read ${what}`);
}

/** Reads fields of one frame body; every read checks the bounds. */
export class FieldReader {
  readonly bytes: Uint8Array;
  #at: number;

  constructor(bytes: Uint8Array, at = 0) {
    this.bytes = bytes;
    this.#at = at;
  }

  /** Bytes not read yet. */
  get left(): number {
    return lengthOf(this.bytes) - this.#at;
  }

  /** One byte; throws at the end. */
  byte(): number {
    if (this.left < 1) throw garbled("a byte: the message is truncated");
    return this.bytes[this.#at++];
  }

  /** A uint32; throws past the end. */
  uint32(): number {
    if (this.left < 4) throw garbled("a uint32: the message is truncated");
    const value = getUint32(this.bytes, this.#at);
    this.#at += 4;
    return value;
  }

  /** A string as a view of the body (no copy); throws past the end. */
  string(): Uint8Array {
    const length = this.uint32();
    if (length > this.left) {
      throw garbled("a string: the message is truncated");
    }
    const view = subarrayOf(this.bytes, this.#at, this.#at + length);
    this.#at += length;
    return view;
  }

  /**
   * A string of public text (a name, a comment), decoded as UTF-8; bytes
   * that are not UTF-8 are refused, so two different names never decode
   * to one.
   */
  text(): string {
    try {
      return strictText(this.string());
    } catch {
      // Like a truncated field: the frame is refused.
      throw garbled("a name or comment: it is not UTF-8");
    }
  }
}

/** Public bytes as text, anything outside printable ASCII as `?`. */
export function asciiText(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "?";
  }
  return text;
}

/** Whether `bytes` is the ASCII text `expected`. */
export function bytesAre(bytes: Uint8Array, expected: string): boolean {
  if (bytes.length !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (bytes[i] !== expected.charCodeAt(i)) return false;
  }
  return true;
}
