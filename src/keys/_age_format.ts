/**
 * The textual parts of an age v1 file (c2sp.org/age): the header (version
 * line, recipient stanzas, MAC line) and the ASCII armor. Everything here
 * is public (stanza bodies are wrapped keys, the armor holds ciphertext),
 * so it is ordinary bytes and strings; the secret parts live in age.ts.
 *
 * ```
 * age-encryption.org/v1
 * -> X25519 <base64 share>
 * <base64 body, 64 columns, last line shorter (maybe empty)>
 * --- <base64 HMAC-SHA-256 of everything up to and including "---">
 * <payload: 16-byte nonce ‖ ChaCha20-Poly1305 chunks of 64 KiB + 16>
 * ```
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { append } from "../core/_intrinsics.ts";
import { decodePublicBase64, encodeBase64, wrapLines } from "./_base64.ts";
import { ascii } from "./_wire.ts";

export const VERSION_LINE = "age-encryption.org/v1";
const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END = "-----END AGE ENCRYPTED FILE-----";
const COLUMNS = 64;
const LF = 0x0a;

/** One recipient stanza. */
export interface Stanza {
  readonly args: readonly string[];
  readonly body: Uint8Array;
}

/** A parsed header. */
export interface Header {
  readonly stanzas: readonly Stanza[];
  /** Bytes the MAC covers: the header up to and including `---`. */
  readonly macEnd: number;
  /** The 32-byte MAC the file states. */
  readonly mac: Uint8Array;
  /** Where the payload starts. */
  readonly payloadStart: number;
}

/** An error about a malformed file. */
export function malformed(why: string): SecretMemoryError {
  return new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot read the age file: ${why}`,
  );
}

/** Reads header lines of a file. */
class Lines {
  #at = 0;
  readonly #file: Uint8Array;
  constructor(file: Uint8Array) {
    this.#file = file;
  }
  get at(): number {
    return this.#at;
  }
  /** The next line without its line feed; throws at the end of the file. */
  next(): string {
    const file = this.#file;
    let end = this.#at;
    while (end < file.length && file[end] !== LF) end++;
    if (end === file.length) {
      throw malformed("the header ends without a MAC line (truncated?)");
    }
    let line = "";
    for (let i = this.#at; i < end; i++) {
      const c = file[i];
      if (c < 0x20 || c > 0x7e) {
        throw malformed("the header holds a byte that is not printable ASCII");
      }
      line += String.fromCharCode(c);
    }
    this.#at = end + 1;
    return line;
  }
}

function decodeField(text: string, length: number | undefined, what: string) {
  const bytes = decodePublicBase64(text, false);
  if (
    bytes === undefined || (length !== undefined && bytes.length !== length)
  ) {
    throw malformed(
      `${what} is not canonical unpadded base64${
        length === undefined ? "" : ` of ${length} bytes`
      }`,
    );
  }
  return bytes;
}

/** Parses the header at the start of `file`. */
export function parseHeader(file: Uint8Array): Header {
  const lines = new Lines(file);
  const version = lines.next();
  if (version !== VERSION_LINE) {
    throw malformed(
      version.startsWith("age-encryption.org/")
        ? `its version ${JSON.stringify(version)} is not v1`
        : "it does not start with age-encryption.org/v1",
    );
  }
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = lines.at;
    const line = lines.next();
    if (line.startsWith("---")) {
      if (stanzas.length === 0) throw malformed("the header has no stanza");
      if (line.length !== 4 + 43 || line[3] !== " ") {
        throw malformed('the MAC line is not "--- " and 43 base64 characters');
      }
      return {
        stanzas,
        macEnd: start + 3,
        mac: decodeField(line.slice(4), 32, "the header MAC"),
        payloadStart: lines.at,
      };
    }
    if (!line.startsWith("-> ")) {
      throw malformed('a header line starts with neither "->" nor "---"');
    }
    const args = line.slice(3).split(" ");
    if (args.some((arg) => arg === "")) {
      throw malformed("a stanza has an empty argument");
    }
    let body = "";
    for (;;) {
      const part = lines.next();
      if (part.length > COLUMNS) throw malformed("a stanza line is too long");
      body += part;
      if (part.length < COLUMNS) break;
    }
    append(stanzas, {
      args,
      body: decodeField(body, undefined, "a stanza body"),
    });
  }
}

/** The header up to and including `---`, for the MAC. */
export function formatHeaderStart(stanzas: readonly Stanza[]): string {
  let text = VERSION_LINE + "\n";
  for (let i = 0; i < stanzas.length; i++) {
    const stanza = stanzas[i];
    // Joined here: a join replaced after import could write another
    // share into the header (and the MAC over it), and no one could open
    // the file.
    text += "->";
    for (let j = 0; j < stanza.args.length; j++) text += " " + stanza.args[j];
    text += "\n";
    const body = encodeBase64(stanza.body, false);
    text += wrapLines(body, COLUMNS);
    // A body that fills its last line needs an empty final line.
    if (body.length % COLUMNS === 0) text += "\n";
  }
  return text + "---";
}

/** The complete header bytes, given the MAC. */
export function headerBytes(start: string, mac: Uint8Array): Uint8Array {
  return ascii(`${start} ${encodeBase64(mac, false)}\n`);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Whether `file` is armored (PEM, after optional whitespace). */
export function isArmored(file: Uint8Array): boolean {
  let at = 0;
  while (at < file.length && isSpace(file[at])) at++;
  for (let i = 0; i < ARMOR_BEGIN.length; i++) {
    if (file[at + i] !== ARMOR_BEGIN.charCodeAt(i)) return false;
  }
  return true;
}

/** The armored form of a binary age file. */
export function armor(binary: Uint8Array): Uint8Array {
  return ascii(
    `${ARMOR_BEGIN}\n${
      wrapLines(encodeBase64(binary, true), COLUMNS)
    }${ARMOR_END}\n`,
  );
}

/**
 * The binary file inside strict armor: whitespace only around the block,
 * lines of exactly 64 columns but the last (LF or CRLF), canonical padded
 * base64.
 */
export function unarmor(file: Uint8Array): Uint8Array {
  let start = 0;
  let end = file.length;
  while (start < end && isSpace(file[start])) start++;
  while (end > start && isSpace(file[end - 1])) end--;
  let text = "";
  for (let i = start; i < end; i++) {
    const c = file[i];
    if (c > 0x7e) throw malformed("its armor holds a non-ASCII byte");
    text += String.fromCharCode(c);
  }
  const lines = text.split("\n").map((line) =>
    line.endsWith("\r") ? line.slice(0, -1) : line
  );
  if (lines[0] !== ARMOR_BEGIN || lines.at(-1) !== ARMOR_END) {
    throw malformed(
      `its armor does not run from ${ARMOR_BEGIN} to ${ARMOR_END}`,
    );
  }
  const body = lines.slice(1, -1);
  if (body.length === 0) throw malformed("its armor is empty");
  for (let i = 0; i < body.length; i++) {
    const last = i === body.length - 1;
    if (
      last
        ? body[i].length === 0 || body[i].length > COLUMNS
        : body[i].length !== COLUMNS
    ) {
      throw malformed(`armor line ${i + 2} is not ${COLUMNS} columns wide`);
    }
  }
  const binary = decodePublicBase64(body.join(""), true);
  if (binary === undefined) {
    throw malformed("its armor is not canonical base64");
  }
  return binary;
}
