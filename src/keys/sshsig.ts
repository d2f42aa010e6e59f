/**
 * SSH signatures (OpenSSH's PROTOCOL.sshsig), the format `ssh-keygen -Y
 * sign` writes and `ssh-keygen -Y verify` checks, for Ed25519 keys.
 *
 * ```
 * signed data: "SSHSIG" ‖ string namespace ‖ string reserved ("")
 *              ‖ string hash algorithm ‖ string H(message)
 * signature:   "SSHSIG" ‖ uint32 1 ‖ string public key blob
 *              ‖ string namespace ‖ string reserved ‖ string hash algorithm
 *              ‖ string (string "ssh-ed25519" ‖ string signature)
 * ```
 *
 * armored as PEM ("SSH SIGNATURE", base64 at 70 columns). secmem signs
 * with SHA-512 (ssh-keygen's default) and verifies SHA-512 and SHA-256.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { checkInput } from "../crypto/_input.ts";
import { type HashAlgorithm, SHA256, SHA512 } from "../crypto/_sha2.ts";
import { withWork } from "../crypto/_work.ts";
import { decodePublicBase64, encodeBase64, wrapLines } from "./_base64.ts";
import {
  formatPublicKeyLine,
  parsePublicKeyLine,
  publicKeyBlob,
  publicKeyFromBlob,
} from "./_openssh.ts";
import { ascii, rangeIs, WireReader, WireWriter } from "./_wire.ts";
import { ed25519Verify } from "./_ed25519.ts";
import { checkEd25519Key, type Ed25519Key } from "./ed25519.ts";
import { Bytes, lengthOf, subarrayOf } from "../core/_intrinsics.ts";

const MAGIC = "SSHSIG";
const BEGIN = "-----BEGIN SSH SIGNATURE-----";
const END = "-----END SSH SIGNATURE-----";
const KEY_TYPE = "ssh-ed25519";

function digest(hash: HashAlgorithm, message: Uint8Array, length: number) {
  const out = new Bytes(hash.outputLength);
  withWork(hash.stateSize, (area) => {
    const state = hash.create(area, 0);
    state.reset();
    state.update(message, 0, length);
    state.finish(out, 0);
  });
  return out;
}

function checkNamespace(namespace: unknown): string {
  if (typeof namespace !== "string" || namespace === "") {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot use the SSH signature namespace: expected a non-empty string" +
        ' such as "file" or "git"',
    );
  }
  // Printable ASCII only: a namespace is signed as bytes, and any wider
  // character would need an encoding both sides agree on (a code unit cut
  // to a byte let a signature for one namespace verify in another).
  if (!/^[\x20-\x7e]+$/.test(namespace)) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${
        JSON.stringify(namespace)
      } as the SSH signature namespace: only printable ASCII characters are accepted`,
    );
  }
  return namespace;
}

function signedData(
  namespace: string,
  hashName: string,
  hash: Uint8Array,
): Uint8Array {
  return new WireWriter().raw(ascii(MAGIC)).string(ascii(namespace))
    .string("").string(hashName).string(hash).done();
}

/**
 * Signs `message` as `ssh-keygen -Y sign -n <namespace>` would, with an
 * Ed25519 key whose seed stays in guarded memory.
 *
 * @param key The signing key.
 * @param message The message (public bytes).
 * @param namespace The signature's purpose, such as `"file"`; a verifier
 * must ask for the same one.
 * @returns The armored signature, `-----BEGIN SSH SIGNATURE-----` to the end
 * line, with a final line feed.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for a key that is not an
 * Ed25519Key, a message that is not bytes or an empty namespace;
 * `DESTROYED` for a destroyed key.
 *
 * @example Sign a file's bytes
 * ```ts
 * import { Ed25519Key, sshSign } from "@secmem/secmem/keys";
 *
 * using key = Ed25519Key.generate();
 * const signature = sshSign(key, new TextEncoder().encode("hello"), "file");
 * if (!signature.startsWith("-----BEGIN SSH SIGNATURE-----")) {
 *   throw new Error("expected an armored signature");
 * }
 * ```
 */
export function sshSign(
  key: Ed25519Key,
  message: Uint8Array,
  namespace: string,
): string {
  const signer = checkEd25519Key(key, "the signing key");
  const ns = checkNamespace(namespace);
  const input = checkInput(message, "the message to sign");
  const hash = digest(SHA512, input.bytes, input.length);
  const signature = signer.sign(signedData(ns, "sha512", hash));
  const blob = new WireWriter().raw(ascii(MAGIC)).uint32(1)
    .string(publicKeyBlob(signer.publicKey)).string(ascii(ns)).string("")
    .string("sha512")
    .string(new WireWriter().string(KEY_TYPE).string(signature).done())
    .done();
  return `${BEGIN}\n${wrapLines(encodeBase64(blob, true), 70)}${END}\n`;
}

function malformed(why: string): SecretMemoryError {
  return new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot read the SSH signature: ${why}`,
  );
}

/** The binary blob of an armored signature. */
function unarmor(signature: string): Uint8Array {
  if (typeof signature !== "string") {
    throw malformed(`expected a string, got ${typeof signature}`);
  }
  const lines = signature.trim().split(/\r?\n/);
  if (lines.length < 3 || lines[0] !== BEGIN || lines.at(-1) !== END) {
    throw malformed(`expected the lines "${BEGIN}" … "${END}"`);
  }
  const blob = decodePublicBase64(lines.slice(1, -1).join(""), true);
  if (blob === undefined) throw malformed("its base64 is garbled");
  return blob;
}

/**
 * Checks an armored SSH signature over `message` by the Ed25519 key on
 * `publicKeyLine`, in `namespace`, as `ssh-keygen -Y verify` does (with
 * that one key as the allowed signer). The Ed25519 check is the strict
 * one of `ed25519Verify`.
 *
 * @param publicKeyLine `ssh-ed25519 AAAA… [comment]`, as in a `.pub` file.
 * @param message The signed message.
 * @param namespace The namespace the signature must have been made for.
 * @param signature The armored signature.
 * @returns Whether the signature is by that key, over that message, in
 * that namespace.
 * @throws {SecretMemoryError} `INVALID_KEY` for a key line that is not
 * `ssh-ed25519` or does not decode; `INVALID_ARGUMENT` for an armored
 * signature that cannot be read at all, or a non-Ed25519 one.
 *
 * @example Sign and verify
 * ```ts
 * import { Ed25519Key, formatSshPublicKey, sshSign, sshVerify } from "@secmem/secmem/keys";
 *
 * using key = Ed25519Key.generate();
 * const message = new TextEncoder().encode("hello");
 * const signature = sshSign(key, message, "file");
 * const line = formatSshPublicKey(key.publicKey);
 * if (!sshVerify(line, message, "file", signature)) throw new Error("bad");
 * if (sshVerify(line, message, "git", signature)) throw new Error("namespace");
 * ```
 */
export function sshVerify(
  publicKeyLine: string,
  message: Uint8Array,
  namespace: string,
  signature: string,
): boolean {
  const expected = parsePublicKeyLine(publicKeyLine);
  const ns = checkNamespace(namespace);
  const input = checkInput(message, "the signed message");
  const blob = unarmor(signature);
  const r = new WireReader(
    blob,
    0,
    lengthOf(blob),
    "the SSH signature",
    "INVALID_ARGUMENT",
  );
  if (!rangeIs(blob, r.take(MAGIC.length, "magic"), MAGIC)) {
    throw malformed('it does not start with "SSHSIG"');
  }
  if (r.uint32("version") !== 1) throw malformed("its version is not 1");
  const keyRange = r.string("public key");
  const signer = publicKeyFromBlob(
    subarrayOf(blob, keyRange.start, keyRange.end),
    "the SSH signature's public key",
  );
  const nsRange = r.string("namespace");
  r.string("reserved");
  const hashRange = r.string("hash algorithm");
  const sigRange = r.string("signature");
  const sig = new WireReader(
    blob,
    sigRange.start,
    sigRange.end,
    "the SSH signature",
    "INVALID_ARGUMENT",
  );
  if (r.left !== 0) throw malformed("bytes follow the signature");
  if (!sig.stringIs(KEY_TYPE, "signature type")) {
    throw malformed(`it is not an ${KEY_TYPE} signature`);
  }
  const raw = sig.string("signature bytes");
  if (raw.end - raw.start !== 64 || sig.left !== 0) {
    throw malformed("an Ed25519 signature is 64 bytes");
  }
  let hash: HashAlgorithm;
  let hashName: string;
  // Two assignments, not a destructured pair: the array iterator, replaced
  // after import, chose the pair (a look-alike algorithm's digest would
  // let a signature over one message verify for another).
  if (rangeIs(blob, hashRange, "sha512")) {
    hash = SHA512;
    hashName = "sha512";
  } else if (rangeIs(blob, hashRange, "sha256")) {
    hash = SHA256;
    hashName = "sha256";
  } else throw malformed("its hash algorithm is neither sha512 nor sha256");
  let sameKey = 0;
  for (let i = 0; i < 32; i++) sameKey |= signer[i] ^ expected[i];
  if (sameKey !== 0 || !rangeIs(blob, nsRange, ns)) return false;
  const data = signedData(
    ns,
    hashName,
    digest(hash, input.bytes, input.length),
  );
  // Copied by index: a typed array slice replaced after import chose the
  // signature checked.
  const signatureBytes = new Bytes(64);
  for (let i = 0; i < 64; i++) signatureBytes[i] = blob[raw.start + i];
  return ed25519Verify(expected, data, signatureBytes);
}

/**
 * Refuses a comment that is not a string or holds a control character: a
 * line break in it would put a second line (another key) into the
 * authorized_keys or .pub file the line is written to.
 */
function checkComment(comment: unknown): void {
  if (typeof comment === "string") {
    let control = false;
    for (let i = 0; i < comment.length; i++) {
      const c = comment.charCodeAt(i);
      control ||= c < 0x20 || c === 0x7f;
    }
    if (!control) return;
  }
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    "Cannot use the comment: expected a string without control characters" +
      " (a line break would start another line of the key file)",
  );
}

/**
 * An OpenSSH public key line for an Ed25519 public key.
 *
 * @param publicKey The 32-byte public key.
 * @param comment Text after the key, such as `user@host`.
 * @returns `ssh-ed25519 AAAA… [comment]`.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for a key that is not 32
 * bytes, or a comment that is not a string or holds a control character
 * (a line break would add a line to the file it is written to).
 *
 * @example
 * ```ts
 * import { Ed25519Key, formatSshPublicKey, parseSshPublicKey } from "@secmem/secmem/keys";
 *
 * using key = Ed25519Key.generate();
 * const line = formatSshPublicKey(key.publicKey, "me@host");
 * if (parseSshPublicKey(line).length !== 32) throw new Error("expected 32 bytes");
 * ```
 */
export function formatSshPublicKey(
  publicKey: Uint8Array,
  comment?: string,
): string {
  const key = checkInput(publicKey, "the Ed25519 public key");
  if (key.length !== 32) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use a ${key.length}-byte public key: Ed25519 public keys are 32 bytes`,
    );
  }
  if (comment !== undefined) checkComment(comment);
  // Copied by index: an own `slice` on the caller's array must not choose
  // the key that is written.
  const copy = new Bytes(32);
  for (let i = 0; i < 32; i++) copy[i] = key.bytes[i];
  return formatPublicKeyLine(copy, comment);
}

/**
 * The 32-byte Ed25519 key of an OpenSSH public key line.
 *
 * @param line `ssh-ed25519 AAAA… [comment]`.
 * @returns The public key.
 * @throws {SecretMemoryError} `INVALID_KEY` for another key type or
 * garbled base64.
 *
 * @example
 * ```ts
 * import { parseSshPublicKey } from "@secmem/secmem/keys";
 *
 * const key = parseSshPublicKey(
 *   "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkFlLm+bkGMT9YDYP7ZUMR3Mlw37PtzGO8lXbhKRO6H",
 * );
 * if (key.length !== 32) throw new Error("expected 32 bytes");
 * ```
 */
export function parseSshPublicKey(line: string): Uint8Array {
  return parsePublicKeyLine(line);
}
