/**
 * OpenSSH key files for Ed25519: the `openssh-key-v1` private key format
 * (OpenSSH's PROTOCOL.key) read from a SecretBuffer into guarded memory,
 * and public key lines (`ssh-ed25519 AAAA… comment`).
 *
 * Private key layout, after the PEM armor and base64:
 *
 * ```
 * "openssh-key-v1\0"  string cipher ("none")  string kdf ("none")
 * string kdf options ("")  uint32 keys (1)  string public key blob
 * string private section:
 *   uint32 check  uint32 check (equal)  string "ssh-ed25519"
 *   string public (32)  string seed ‖ public (64)  string comment
 *   padding 1, 2, 3, … to a multiple of 8
 * ```
 *
 * Passphrase-protected files (cipher aes256-ctr, kdf bcrypt) are refused:
 * bcrypt_pbkdf runs Blowfish, whose S-boxes are looked up by
 * passphrase-derived indices (a secret-dependent table index the crypto
 * core never uses), and AES-256-CTR would need a table-free AES in
 * TypeScript. The error says how to strip the passphrase on a copy.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { Bytes, lengthOf } from "../core/_intrinsics.ts";
import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import {
  decodeBase64Into,
  decodedMax,
  decodePublicBase64,
  encodeBase64,
} from "./_base64.ts";
import { ed25519PublicKey } from "./_ed25519.ts";
import {
  type Range,
  rangeIs,
  rangeText,
  WireReader,
  WireWriter,
} from "./_wire.ts";

const BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END = "-----END OPENSSH PRIVATE KEY-----";
const MAGIC = "openssh-key-v1\0";
const KEY_TYPE = "ssh-ed25519";
const WHAT = "the OpenSSH private key";
/** The cipher "none" pads the private section to 8 bytes. */
const BLOCK = 8;

/** What a private key file holds besides the seed. */
export interface OpenSSHKey {
  /** The 32-byte seed, in a new SecretBuffer at rest. */
  seed: SecretBuffer;
  /** The public key the file states. */
  publicKey: Uint8Array;
  /** The comment (public, often user@host). */
  comment: string;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function matchAt(view: Uint8Array, at: number, text: string): boolean {
  // The engine's length: `view` is the guarded key file, and a getter
  // replaced after import would be handed it.
  if (at + text.length > lengthOf(view)) return false;
  for (let i = 0; i < text.length; i++) {
    if (view[at + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** The base64 body between the armor lines of `view[0..size)`. */
function armorBody(view: Uint8Array, size: number): Range {
  let start = 0;
  while (start < size && isSpace(view[start])) start++;
  let end = size;
  while (end > start && isSpace(view[end - 1])) end--;
  if (!matchAt(view, start, BEGIN)) {
    throw new SecretMemoryError(
      "INVALID_KEY",
      `Cannot read ${WHAT}: it does not start with "${BEGIN}";` +
        " expected a file written by ssh-keygen -t ed25519",
    );
  }
  if (
    end - start < BEGIN.length + END.length ||
    !matchAt(view, end - END.length, END)
  ) {
    throw new SecretMemoryError(
      "INVALID_KEY",
      `Cannot read ${WHAT}: it does not end with "${END}" (truncated?)`,
    );
  }
  return { start: start + BEGIN.length, end: end - END.length };
}

function encrypted(cipher: string): SecretMemoryError {
  return new SecretMemoryError(
    "INVALID_KEY",
    `Cannot read ${WHAT}: it is protected by a passphrase (cipher ${cipher}),` +
      " which secmem does not decrypt. Strip the passphrase from a copy on a" +
      ' private tmpfs with `ssh-keygen -p -N "" -f COPY` (it asks for the old' +
      " passphrase), read the copy, then delete it",
  );
}

/** Parses the decoded binary key in `raw[0..length)`. */
function parse(
  raw: Uint8Array,
  length: number,
  options: SecretBufferOptions | undefined,
): OpenSSHKey {
  const r = new WireReader(raw, 0, length, WHAT);
  if (!rangeIs(raw, r.take(MAGIC.length, "magic"), MAGIC)) {
    throw r.fail('it does not start with "openssh-key-v1"');
  }
  const cipher = r.string("cipher name");
  const kdf = r.string("kdf name");
  r.string("kdf options");
  if (!rangeIs(raw, cipher, "none") || !rangeIs(raw, kdf, "none")) {
    throw encrypted(rangeText(raw, cipher));
  }
  if (r.uint32("key count") !== 1) {
    throw r.fail("it holds more than one key; keep one key per file");
  }
  const blob = r.string("public key");
  const pub = publicFromBlob(raw, blob, WHAT);
  const section = r.string("private section");
  if (r.left !== 0) throw r.fail("bytes follow the private section");
  if ((section.end - section.start) % BLOCK !== 0) {
    throw r.fail("the private section is not padded to 8 bytes");
  }
  const s = new WireReader(raw, section.start, section.end, WHAT);
  const check = s.take(8, "check numbers");
  let differ = 0;
  for (let i = 0; i < 4; i++) {
    differ |= raw[check.start + i] ^ raw[check.start + 4 + i];
  }
  if (differ !== 0) {
    throw s.fail("its two check numbers differ (garbled or wrongly decrypted)");
  }
  if (!s.stringIs(KEY_TYPE, "key type")) {
    throw s.fail(`the private key is not of type ${KEY_TYPE}`);
  }
  const innerPub = s.string("public key");
  const pair = s.string("private key");
  const comment = s.string("comment");
  if (innerPub.end - innerPub.start !== 32 || pair.end - pair.start !== 64) {
    throw s.fail("the Ed25519 key has the wrong length");
  }
  let mismatch = 0;
  for (let i = 0; i < 32; i++) {
    mismatch |= (raw[innerPub.start + i] ^ pub[i]) |
      (raw[pair.start + 32 + i] ^ pub[i]);
  }
  if (mismatch !== 0) {
    throw s.fail("the private part names a different public key (garbled?)");
  }
  for (let i = 1; s.left > 0; i++) {
    const at = s.take(1, "padding").start;
    if (raw[at] !== i) throw s.fail("its padding is not 1, 2, 3, …");
  }
  const seed = SecretBuffer.alloc(32, options);
  try {
    const derived = new Bytes(32);
    seed.write((out) => {
      for (let i = 0; i < 32; i++) out[i] = raw[pair.start + i];
      ed25519PublicKey(derived, out);
    });
    let differ = 0;
    for (let i = 0; i < 32; i++) differ |= derived[i] ^ pub[i];
    if (differ !== 0) {
      throw new SecretMemoryError(
        "INTEGRITY",
        `Cannot read ${WHAT}: its seed does not give the public key it states (garbled?)`,
      );
    }
  } catch (error) {
    seed.destroy();
    throw error;
  }
  return { seed, publicKey: pub, comment: rangeText(raw, comment) };
}

/** The 32-byte key of an `ssh-ed25519` public key blob at `range`. */
function publicFromBlob(
  bytes: Uint8Array,
  range: Range,
  what: string,
): Uint8Array {
  const b = new WireReader(bytes, range.start, range.end, what);
  if (!b.stringIs(KEY_TYPE, "key type")) {
    throw b.fail(`the key is not of type ${KEY_TYPE}`);
  }
  const key = b.string("key");
  if (key.end - key.start !== 32 || b.left !== 0) {
    throw b.fail("an Ed25519 public key is 32 bytes");
  }
  // Copied by index: `bytes` is the decoded file, seed and all, and a
  // replaced `slice` would be handed it.
  const out = new Bytes(32);
  for (let i = 0; i < 32; i++) out[i] = bytes[key.start + i];
  return out;
}

/**
 * Reads an unencrypted `openssh-key-v1` Ed25519 private key from `file`
 * (the whole PEM text). The base64 is decoded into a guarded buffer, and
 * the seed copied from there into a new one; the decoded file is wiped.
 */
export function readOpenSSHPrivateKey(
  file: SecretBuffer,
  options?: SecretBufferOptions,
): OpenSSHKey {
  return file.read((view) => {
    const body = armorBody(view, file.size);
    const most = decodedMax(body.end - body.start);
    const raw = SecretBuffer.alloc(most > 1 ? most : 1, options);
    try {
      return raw.write((out) => {
        const length = decodeBase64Into(view, body.start, body.end, out, 0, {
          padded: true,
          lines: true,
        });
        if (length < 0) {
          throw new SecretMemoryError(
            "INVALID_KEY",
            `Cannot read ${WHAT}: its base64 body is garbled`,
          );
        }
        return parse(out, length, options);
      });
    } finally {
      raw.destroy();
    }
  });
}

/** The `ssh-ed25519` wire blob of a public key. */
export function publicKeyBlob(publicKey: Uint8Array): Uint8Array {
  return new WireWriter().string(KEY_TYPE).string(publicKey).done();
}

/** The 32-byte key from an `ssh-ed25519` wire blob. */
export function publicKeyFromBlob(blob: Uint8Array, what: string): Uint8Array {
  return publicFromBlob(blob, { start: 0, end: lengthOf(blob) }, what);
}

/** `ssh-ed25519 <base64> [comment]`, as a `.pub` file's line. */
export function formatPublicKeyLine(
  publicKey: Uint8Array,
  comment?: string,
): string {
  const line = `${KEY_TYPE} ${encodeBase64(publicKeyBlob(publicKey), true)}`;
  return comment === undefined || comment === "" ? line : `${line} ${comment}`;
}

/** Whether `c` separates a key line's fields (a space or a tab). */
function isBlank(c: string): boolean {
  return c === " " || c === "\t";
}

/** Whether `c` is ASCII white space, trimmed from a key line's ends. */
function isWhite(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" ||
    c === "\v" || c === "\f";
}

/** The 32-byte key of an OpenSSH public key line (`ssh-ed25519 AAAA…`). */
export function parsePublicKeyLine(line: string): Uint8Array {
  const what = "the OpenSSH public key line";
  if (typeof line !== "string") {
    throw new SecretMemoryError(
      "INVALID_KEY",
      `Cannot read ${what}: expected a string, got ${typeof line}`,
    );
  }
  // The first two fields by index, with no trim, split or RegExp: one
  // replaced after import answered another key for the line, and
  // sshVerify accepted that key's signatures as the line's.
  let at = 0;
  let end = line.length;
  while (at < end && isWhite(line[at])) at++;
  while (end > at && isWhite(line[end - 1])) end--;
  let type = "";
  while (at < end && !isBlank(line[at])) type += line[at++];
  while (at < end && isBlank(line[at])) at++;
  let base64 = "";
  while (at < end && !isBlank(line[at])) base64 += line[at++];
  if (type !== KEY_TYPE || base64 === "") {
    throw new SecretMemoryError(
      "INVALID_KEY",
      `Cannot read ${what}: expected "${KEY_TYPE} AAAA… [comment]"`,
    );
  }
  const blob = decodePublicBase64(base64, true);
  if (blob === undefined) {
    throw new SecretMemoryError(
      "INVALID_KEY",
      `Cannot read ${what}: its base64 is garbled`,
    );
  }
  return publicKeyFromBlob(blob, what);
}
