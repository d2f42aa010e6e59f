/**
 * age v1 files (c2sp.org/age) encrypted to X25519 recipients or to a
 * scrypt passphrase, with the file key, the wrap keys, the identities'
 * scalars and the plaintext in guarded memory.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { append, Bytes } from "../core/_intrinsics.ts";
import { publicRandom } from "../core/_public_random.ts";
import { checkBufferOptions } from "../core/_validate.ts";
import {
  isSecretBuffer,
  SecretBuffer,
  type SecretBufferOptions,
} from "../secret_buffer.ts";
import { openInto, sealInto, spanOf } from "../crypto/_aead.ts";
import { checkInput, checkSecret } from "../crypto/_input.ts";
import { EMPTY, hkdfInto, type Input } from "../crypto/_kdf.ts";
import { Hmac } from "../crypto/_hmac.ts";
import { SHA256 } from "../crypto/_sha2.ts";
import { bytes, withWork } from "../crypto/_work.ts";
import { scryptSync } from "../crypto/scrypt.ts";
import { decodePublicBase64, encodeBase64 } from "./_base64.ts";
import {
  armor,
  formatHeaderStart,
  headerBytes,
  isArmored,
  malformed,
  parseHeader,
  type Stanza,
  unarmor,
} from "./_age_format.ts";
import { parseAgeRecipient } from "./_age_keys.ts";
import { ascii } from "./_wire.ts";
import { X25519Key } from "./x25519.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const Number = globalThis.Number;

const CHUNK = 65536;
const TAG = 16;
const FILE_KEY = 16;
const NONCE = 16;
const X25519_INFO = ascii("age-encryption.org/v1/X25519");
const SCRYPT_LABEL = ascii("age-encryption.org/v1/scrypt");
const HEADER_INFO = ascii("header");
const PAYLOAD_INFO = ascii("payload");
/** The stanza nonce: always 12 zero bytes (each wrap key is used once). */
const ZERO_NONCE = new Bytes(12);

// Taken at load: a replacement made later must not run inside the library.
const getOwnDescriptor = Object.getOwnPropertyDescriptor;
const apply = Reflect.apply;
// An identity's methods, called as the class defines them: a Proxy or a
// look-alike cannot run its own code inside the file key's scope.
const agreeOf = X25519Key.prototype.agree;
const publicKeyOf = getOwnDescriptor(X25519Key.prototype, "publicKey")!.get!;
const isArray = Array.isArray;

/**
 * The most recipient stanzas a file may have, to encrypt or to decrypt.
 * age sets no limit; this one bounds the work a hostile file can ask for
 * (an X25519 agreement per stanza and identity, under 1 ms each: about
 * 0.1 s an identity at most) and is far above a team's recipient list.
 */
export const AGE_MAX_RECIPIENTS = 128;

/** age's default scrypt work factor (log2 N), as the age CLI writes. */
export const AGE_WORK_FACTOR = 18;
/**
 * The largest scrypt work factor decrypted: 2^19 · 1 KiB = 512 MiB of
 * scrypt memory (`scryptSync` refuses more than 1 GiB). A file that asks
 * for more is refused before any memory is mapped.
 */
export const AGE_MAX_WORK_FACTOR = 19;

/** Whom `ageEncrypt` encrypts to. */
export interface AgeEncryptTo {
  /** `age1…` X25519 recipients. */
  recipients?: string[];
  /** A passphrase (an scrypt stanza; it cannot be mixed with recipients). */
  passphrase?: SecretBuffer;
  /** PEM armor ("AGE ENCRYPTED FILE") instead of binary. */
  armor?: boolean;
  /** scrypt's log2 N for a passphrase, 10 to 19; 18 by default, as age. */
  workFactor?: number;
}

/** What `ageDecrypt` may decrypt with. */
export interface AgeDecryptBy {
  /** X25519 identities to try against the file's X25519 stanzas. */
  identities?: X25519Key[];
  /** The passphrase, for a file with an scrypt stanza. */
  passphrase?: SecretBuffer;
}

/** HKDF-SHA-256 of `ikm` into `out` (32 bytes of a guarded area). */
function derive(
  ikm: Uint8Array,
  ikmLength: number,
  salt: Input,
  info: Uint8Array,
  out: Uint8Array,
): void {
  hkdfInto(
    SHA256,
    ikm,
    ikmLength,
    salt,
    { bytes: info, length: info.length },
    out,
  );
}

function input(bytes: Uint8Array): Input {
  return { bytes, length: bytes.length };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Bytes(a.length + b.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  for (let i = 0; i < b.length; i++) out[a.length + i] = b[i];
  return out;
}

/** Wraps the file key under a 32-byte key: the 32-byte stanza body. */
function wrap(key: Uint8Array, fileKey: Uint8Array): Uint8Array {
  const body = new Bytes(FILE_KEY + TAG);
  sealInto(
    spanOf(key, 0, 32),
    spanOf(ZERO_NONCE),
    spanOf(EMPTY.bytes),
    spanOf(fileKey, 0, FILE_KEY),
    body,
    0,
  );
  return body;
}

function x25519Stanza(
  recipient: Uint8Array,
  fileKey: Uint8Array,
  area: Uint8Array,
): Stanza {
  using ephemeral = X25519Key.generate();
  const share = ephemeral.publicKey;
  using shared = ephemeral.agree(recipient);
  const key = bytes(area, 0, 32);
  shared.read((s) =>
    derive(s, 32, input(concat(share, recipient)), X25519_INFO, key)
  );
  return {
    args: ["X25519", encodeBase64(share, false)],
    body: wrap(key, fileKey),
  };
}

function scryptKey(
  passphrase: SecretBuffer,
  salt: Uint8Array,
  workFactor: number,
  options: SecretBufferOptions | undefined,
): SecretBuffer {
  return scryptSync(passphrase, {
    salt: concat(SCRYPT_LABEL, salt),
    N: 2 ** workFactor,
    r: 8,
    p: 1,
    length: 32,
  }, options);
}

function randomPublic(length: number): Uint8Array {
  // Public values (salt, nonce): the generator's state may keep them.
  return publicRandom(new Bytes(length));
}

function nonceOf(counter: number, last: boolean, out: Uint8Array): Uint8Array {
  let c = counter;
  for (let i = 10; i >= 0; i--) {
    const byte = c % 256;
    out[i] = byte;
    // No Math.floor: replaced after import, it could give two chunks one
    // nonce under one payload key (their keystream, and Poly1305 key,
    // then repeat).
    c = (c - byte) / 256;
  }
  out[11] = last ? 1 : 0;
  return out;
}

/** How many pieces of `per` bytes `length` bytes make, the last short. */
function chunksOf(length: number, per: number): number {
  const rest = length % per;
  return (length - rest) / per + (rest === 0 ? 0 : 1);
}

function checkWorkFactor(value: unknown): number {
  if (value === undefined) return AGE_WORK_FACTOR;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 10 ||
    value > AGE_MAX_WORK_FACTOR
  ) {
    // Only a number is printed: String() of a Proxy, a detached array or
    // a Symbol throws a TypeError, and of an object runs its toString.
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${
        typeof value === "number" ? String(value) : `a ${typeof value}`
      } as the age scrypt work factor: expected a whole number from 10 to ${AGE_MAX_WORK_FACTOR}`,
    );
  }
  return value;
}

/**
 * The elements of a real array, each read once by index and handed to
 * `check` as it is read.
 */
function listOf(
  value: unknown,
  what: string,
  expected: string,
  max = Infinity,
  check?: (element: unknown) => void,
): unknown[] {
  if (!isArray(value)) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${what}: expected an array of ${expected}`,
    );
  }
  const array = value as unknown[];
  const length = array.length;
  // Before the copy: a length of 2^32 - 1 (a sparse array, a Proxy) would
  // hold the loop for minutes.
  if (length > max) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${what}: ${length} given, at most ${max}; split them over several files`,
    );
  }
  const out: unknown[] = [];
  // Own elements: a setter planted on Array.prototype would be handed
  // each identity.
  for (let i = 0; i < length; i++) {
    const element = array[i];
    check?.(element);
    append(out, element);
  }
  return out;
}

/** An own data property of the caller's options (no getter runs). */
function own<T>(object: unknown, key: string): T | undefined {
  if (object === null || typeof object !== "object") return undefined;
  const d = getOwnDescriptor(object, key);
  return d !== undefined && "value" in d ? d.value as T : undefined;
}

/**
 * Encrypts `plaintext` into an age v1 file, to X25519 recipients or to a
 * passphrase. The file key is made in guarded memory and every key
 * derived from it lives in a guarded work area; the output is ciphertext.
 *
 * @param plaintext The bytes to encrypt; a SecretBuffer is read in place.
 * @param to `recipients` (`age1…`) or `passphrase`, and `armor`.
 * @param options Lock policy and backend of the guarded buffers (a
 * passphrase's scrypt needs 2^workFactor KiB: pass `{ lock: "best-effort" }`
 * where RLIMIT_MEMLOCK is small).
 * @returns The age file (binary, or armored text as bytes).
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for no recipient, a
 * recipient that is not `age1…`, a passphrase together with recipients,
 * or a work factor out of range; `INTEGRITY` for a recipient whose Bech32
 * checksum is wrong; `DESTROYED`; and what `SecretBuffer.alloc` throws.
 *
 * @example Encrypt to a recipient and decrypt with its identity
 * ```ts
 * import { X25519Key } from "@secmem/secmem/keys";
 * import { ageDecrypt, ageEncrypt } from "@secmem/secmem/age";
 *
 * using identity = X25519Key.generate();
 * const file = ageEncrypt(new TextEncoder().encode("hi"), {
 *   recipients: [identity.ageRecipient],
 * });
 * using plain = ageDecrypt(file, { identities: [identity] });
 * if (plain.size !== 2) throw new Error("expected 2 bytes");
 * ```
 */
export function ageEncrypt(
  plaintext: Uint8Array | SecretBuffer,
  to: AgeEncryptTo,
  options?: SecretBufferOptions,
): Uint8Array {
  const recipientsValue = own<unknown>(to, "recipients");
  const passphraseValue = own<unknown>(to, "passphrase");
  const armored = own<unknown>(to, "armor") === true;
  const workFactor = checkWorkFactor(own<unknown>(to, "workFactor"));
  const checked = options === undefined
    ? undefined
    : checkBufferOptions(options);
  // By index into own elements, walked by index below: a map, push or
  // iterator replaced after import added a recipient of its own, and the
  // file key was wrapped to it.
  const recipients: Uint8Array[] = [];
  if (recipientsValue !== undefined) {
    const listed = listOf(
      recipientsValue,
      "the age recipients",
      "age1… strings",
      AGE_MAX_RECIPIENTS,
    );
    for (let i = 0; i < listed.length; i++) {
      append(recipients, parseAgeRecipient(listed[i] as string));
    }
  }
  const passphrase = passphraseValue === undefined
    ? undefined
    : checkSecret(passphraseValue, "the age passphrase");
  if ((recipients.length === 0) === (passphrase === undefined)) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      passphrase === undefined
        ? "Cannot encrypt: give recipients (age1…) or a passphrase"
        : "Cannot encrypt to a passphrase and recipients at once: an age scrypt stanza must be alone",
    );
  }
  const secret = isSecretBuffer(plaintext)
    ? checkSecret(plaintext, "the plaintext")
    : undefined;
  const open = secret === undefined
    ? checkInput(plaintext, "the plaintext")
    : undefined;
  const size = secret !== undefined ? secret.size : open!.length;
  // No Math.max or Math.ceil: replaced after import, they could count
  // too few chunks, and the file would be written with bytes unsealed.
  const chunks = size === 0 ? 1 : chunksOf(size, CHUNK);

  using fileKey = SecretBuffer.random(FILE_KEY, checked);
  return withWork(96, (area) => {
    const macKey = bytes(area, 32, 32);
    const payloadKey = bytes(area, 64, 32);
    const stanzas: Stanza[] = [];
    fileKey.read((fk) => {
      if (passphrase !== undefined) {
        const salt = randomPublic(16);
        using wrapKey = scryptKey(passphrase, salt, workFactor, checked);
        wrapKey.read((k) => {
          append(stanzas, {
            args: ["scrypt", encodeBase64(salt, false), String(workFactor)],
            body: wrap(k, fk),
          });
        });
      }
      for (let i = 0; i < recipients.length; i++) {
        append(stanzas, x25519Stanza(recipients[i], fk, area));
      }
      derive(fk, FILE_KEY, EMPTY, HEADER_INFO, macKey);
    });
    const start = ascii(formatHeaderStart(stanzas));
    const mac = new Bytes(32);
    withWork(Hmac.size(SHA256), (macArea) => {
      const h = new Hmac(SHA256, macArea, 0);
      h.init(macKey, 0, 32);
      h.update(start, 0, start.length);
      h.finish(mac, 0);
    });
    const header = headerBytes(formatHeaderStart(stanzas), mac);
    const nonce = randomPublic(NONCE);
    fileKey.read((fk) =>
      derive(fk, FILE_KEY, input(nonce), PAYLOAD_INFO, payloadKey)
    );
    const out = new Bytes(header.length + NONCE + size + chunks * TAG);
    out.set(header, 0);
    out.set(nonce, header.length);
    const seal = (plain: Uint8Array) => {
      const chunkNonce = new Bytes(12);
      let at = header.length + NONCE;
      for (let i = 0; i < chunks; i++) {
        const from = i * CHUNK;
        // No Math.min: replaced after import, it could leave bytes unsealed.
        const length = size - from < CHUNK ? size - from : CHUNK;
        sealInto(
          spanOf(payloadKey, 0, 32),
          spanOf(nonceOf(i, i === chunks - 1, chunkNonce)),
          spanOf(EMPTY.bytes),
          spanOf(plain, from, length),
          out,
          at,
        );
        at += length + TAG;
      }
    };
    if (secret !== undefined) secret.read(seal);
    else seal(open!.bytes);
    return armored ? armor(out) : out;
  }, checked);
}

const DIGIT_VALUE: Record<string, number> = Object.create(null);
for (let digit = 0; digit < 10; digit++) {
  DIGIT_VALUE["0123456789"[digit]] = digit;
}

/**
 * `text` as a decimal without a leading zero (as age writes a work
 * factor), or NaN. By index, with no RegExp or Number: replaced after
 * import, either could choose the work factor that is checked.
 */
function decimalOf(text: string): number {
  if (typeof text !== "string" || text.length === 0 || text[0] === "0") {
    return NaN;
  }
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = DIGIT_VALUE[text[i]];
    if (digit === undefined) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** Tries each identity on each X25519 stanza; true once the file key is in `fileKey`. */
function unwrapX25519(
  stanzas: readonly Stanza[],
  identities: readonly X25519Key[],
  fileKey: Uint8Array,
  area: Uint8Array,
): boolean {
  const key = bytes(area, 0, 32);
  // By index (the parser's own elements): the array iterator, replaced
  // after import, could choose which stanzas the identities are tried on.
  for (let i = 0; i < stanzas.length; i++) {
    const stanza = stanzas[i];
    if (stanza.args[0] !== "X25519") continue;
    if (stanza.args.length !== 2) {
      throw malformed("an X25519 stanza does not have two arguments");
    }
    const share = decodePublicBase64(stanza.args[1], false);
    if (share === undefined || share.length !== 32) {
      throw malformed(
        "an X25519 stanza's share is not canonical base64 of 32 bytes",
      );
    }
    if (stanza.body.length !== FILE_KEY + TAG) {
      throw malformed("an X25519 stanza's body is not 32 bytes");
    }
    for (let i = 0; i < identities.length; i++) {
      const identity = identities[i];
      // A low-order share makes agree throw: the spec says abort.
      using shared = apply(agreeOf, identity, [share]) as SecretBuffer;
      shared.read((s) =>
        derive(
          s,
          32,
          input(concat(share, apply(publicKeyOf, identity, []) as Uint8Array)),
          X25519_INFO,
          key,
        )
      );
      if (
        openInto(
          spanOf(key, 0, 32),
          spanOf(ZERO_NONCE),
          spanOf(EMPTY.bytes),
          spanOf(stanza.body),
          fileKey,
          0,
        )
      ) {
        return true;
      }
    }
  }
  return false;
}

function unwrapScrypt(
  stanza: Stanza,
  passphrase: SecretBuffer,
  fileKey: Uint8Array,
  options: SecretBufferOptions | undefined,
): boolean {
  if (stanza.args.length !== 3) {
    throw malformed("the scrypt stanza does not have three arguments");
  }
  const salt = decodePublicBase64(stanza.args[1], false);
  if (salt === undefined || salt.length !== 16) {
    throw malformed(
      "the scrypt stanza's salt is not canonical base64 of 16 bytes",
    );
  }
  const workFactor = decimalOf(stanza.args[2]);
  // NaN, decimalOf's answer for anything but digits, is the one value
  // unequal to itself (no Number.isNaN to be replaced).
  if (workFactor !== workFactor) {
    throw malformed("the scrypt work factor is not a decimal number");
  }
  if (workFactor > AGE_MAX_WORK_FACTOR) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot decrypt the age file: its scrypt work factor ${
        stanza.args[2]
      } is above ${AGE_MAX_WORK_FACTOR}` +
        ` (2^${stanza.args[2]} KiB of memory); re-encrypt it with a lower one`,
    );
  }
  if (stanza.body.length !== FILE_KEY + TAG) {
    throw malformed("the scrypt stanza's body is not 32 bytes");
  }
  using key = scryptKey(passphrase, salt, workFactor, options);
  return key.read((k) =>
    openInto(
      spanOf(k, 0, 32),
      spanOf(ZERO_NONCE),
      spanOf(EMPTY.bytes),
      spanOf(stanza.body),
      fileKey,
      0,
    )
  );
}

function integrity(why: string): SecretMemoryError {
  return new SecretMemoryError(
    "INTEGRITY",
    `Cannot decrypt the age file: ${why}`,
  );
}

/**
 * Decrypts an age v1 file (binary or armored) with X25519 identities or a
 * passphrase. The header MAC is checked before any payload is read, and
 * each 64 KiB chunk's tag before it is written out; the plaintext goes
 * only to the returned guarded buffer. On any failure that buffer is
 * wiped and unmapped and nothing is returned.
 *
 * @param file The age file.
 * @param by `identities` or `passphrase`.
 * @param options Lock policy and backend of the guarded buffers (scrypt
 * needs 2^workFactor KiB: `{ lock: "best-effort" }` where RLIMIT_MEMLOCK
 * is small) and of the result.
 * @returns The plaintext in a new SecretBuffer, at rest.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for a malformed file (or
 * one with more than 128 recipient stanzas), no
 * matching identity, a wrong passphrase, a passphrase file opened with
 * identities (or the reverse), an scrypt stanza beside other stanzas, a
 * work factor above `AGE_MAX_WORK_FACTOR`; `INTEGRITY` for a header MAC
 * that does not match or a payload that was altered, truncated, extended
 * or reordered; `DESTROYED`.
 *
 * @example Encrypt and decrypt with a passphrase
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { ageDecrypt, ageEncrypt } from "@secmem/secmem/age";
 *
 * using passphrase = SecretBuffer.from(new TextEncoder().encode("correct horse"));
 * const file = ageEncrypt(new Uint8Array([1, 2, 3]), {
 *   passphrase,
 *   armor: true,
 *   workFactor: 10,
 * });
 * using plain = ageDecrypt(file, { passphrase });
 * if (plain.size !== 3) throw new Error("expected 3 bytes");
 * ```
 */
export function ageDecrypt(
  file: Uint8Array,
  by: AgeDecryptBy,
  options?: SecretBufferOptions,
): SecretBuffer {
  const identitiesValue = own<unknown>(by, "identities");
  const passphraseValue = own<unknown>(by, "passphrase");
  const checked = options === undefined
    ? undefined
    : checkBufferOptions(options);
  let identities: X25519Key[] = [];
  if (identitiesValue !== undefined) {
    // By index, here and in unwrapX25519: an array iterator replaced after
    // import would be handed each identity, and could agree with any share
    // through it (every file sent to it opens then). Each is checked as it
    // is read: a sparse array or a Proxy claiming 2^32 - 1 elements is
    // refused at its first, where copying them all first held the loop for
    // minutes and then ran out of heap.
    identities = listOf(
      identitiesValue,
      "the age identities",
      "X25519Key",
      Infinity,
      (key) => {
        // The brand, not `instanceof` (a Proxy can claim any prototype):
        // the real getter reads the key's private state and throws a
        // TypeError for anything else. A destroyed key still says
        // DESTROYED.
        try {
          apply(publicKeyOf, key, []);
        } catch (error) {
          if (error instanceof SecretMemoryError) throw error;
          throw new SecretMemoryError(
            "INVALID_ARGUMENT",
            "Cannot use the age identities: expected an array of X25519Key",
          );
        }
      },
    ) as X25519Key[];
  }
  const passphrase = passphraseValue === undefined
    ? undefined
    : checkSecret(passphraseValue, "the age passphrase");
  if (identities.length === 0 && passphrase === undefined) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      "Cannot decrypt: give identities or a passphrase",
    );
  }
  const given = checkInput(file, "the age file");
  // A private copy by the engine's length, by index: an own `length` or
  // `slice` on the caller's array would otherwise decide what is read (a
  // length of 2^28 ran the armor reader out of heap), and shared memory
  // could change between the MAC and the chunks.
  const copy = new Bytes(given.length);
  const source = given.bytes;
  for (let i = 0; i < given.length; i++) copy[i] = source[i];
  const binary = isArmored(copy) ? unarmor(copy) : copy;
  const header = parseHeader(binary);
  // Each stanza costs an X25519 agreement per identity (about 0.8 ms and a
  // dozen system calls a pair): without a cap, a file of small stanzas
  // buys seconds of work per KiB.
  if (header.stanzas.length > AGE_MAX_RECIPIENTS) {
    throw malformed(
      `it has ${header.stanzas.length} recipient stanzas, more than the ${AGE_MAX_RECIPIENTS} ageDecrypt takes;` +
        " ask its sender for a file encrypted to fewer recipients",
    );
  }
  // By index, not filter: one replaced after import could hide an scrypt
  // stanza beside others from the check below.
  const scrypt: Stanza[] = [];
  for (let i = 0; i < header.stanzas.length; i++) {
    if (header.stanzas[i].args[0] === "scrypt") {
      append(scrypt, header.stanzas[i]);
    }
  }
  if (scrypt.length > 0 && header.stanzas.length !== 1) {
    throw malformed(
      "an scrypt stanza is not the only stanza (the spec forbids mixing)",
    );
  }
  const rest = binary.length - header.payloadStart - NONCE;
  const sealed = CHUNK + TAG;
  if (rest < TAG) throw integrity("the payload is truncated");
  const chunks = chunksOf(rest, sealed);
  const last = rest - (chunks - 1) * sealed;
  if (last < TAG) {
    throw integrity(
      "the payload ends inside a chunk's tag (truncated or extended)",
    );
  }
  if (last === TAG && chunks > 1) {
    throw integrity("the last chunk is empty (the payload was extended)");
  }
  const size = rest - chunks * TAG;

  using fileKeyBuffer = SecretBuffer.alloc(FILE_KEY, checked);
  return withWork(96, (area) => {
    const macKey = bytes(area, 32, 32);
    const payloadKey = bytes(area, 64, 32);
    fileKeyBuffer.write((fileKey) => {
      if (scrypt.length > 0) {
        if (passphrase === undefined) {
          throw new SecretMemoryError(
            "INVALID_ARGUMENT",
            "Cannot decrypt the age file: it is encrypted to a passphrase; pass `passphrase`",
          );
        }
        if (!unwrapScrypt(scrypt[0], passphrase, fileKey, checked)) {
          throw new SecretMemoryError(
            "INVALID_ARGUMENT",
            "Cannot decrypt the age file: the passphrase is wrong (or the stanza was altered)",
          );
        }
      } else if (!unwrapX25519(header.stanzas, identities, fileKey, area)) {
        const types = [...new Set(header.stanzas.map((s) => s.args[0]))].join(
          ", ",
        );
        throw new SecretMemoryError(
          "INVALID_ARGUMENT",
          `Cannot decrypt the age file: none of the ${identities.length} identities matches its stanzas (${types})`,
        );
      }
      derive(fileKey, FILE_KEY, EMPTY, HEADER_INFO, macKey);
      derive(
        fileKey,
        FILE_KEY,
        input(
          binary.subarray(header.payloadStart, header.payloadStart + NONCE),
        ),
        PAYLOAD_INFO,
        payloadKey,
      );
    });
    const mac = new Bytes(32);
    withWork(Hmac.size(SHA256), (macArea) => {
      const h = new Hmac(SHA256, macArea, 0);
      h.init(macKey, 0, 32);
      h.update(binary, 0, header.macEnd);
      h.finish(mac, 0);
    });
    let differ = 0;
    for (let i = 0; i < 32; i++) differ |= mac[i] ^ header.mac[i];
    if (differ !== 0) {
      throw integrity("the header MAC does not match (the header was altered)");
    }
    const out = SecretBuffer.alloc(size, checked);
    try {
      out.write((plain) => {
        const chunkNonce = new Bytes(12);
        let at = header.payloadStart + NONCE;
        for (let i = 0; i < chunks; i++) {
          const left = size - i * CHUNK;
          const length = left < CHUNK ? left : CHUNK;
          const ok = openInto(
            spanOf(payloadKey, 0, 32),
            spanOf(nonceOf(i, i === chunks - 1, chunkNonce)),
            spanOf(EMPTY.bytes),
            spanOf(binary, at, length + TAG),
            plain,
            i * CHUNK,
          );
          if (!ok) {
            throw integrity(
              `chunk ${i} of ${chunks} does not authenticate (the payload was altered, reordered, truncated or extended)`,
            );
          }
          at += length + TAG;
        }
      });
    } catch (error) {
      out.destroy();
      throw error;
    }
    return out;
  }, checked);
}
