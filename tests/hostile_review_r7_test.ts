/**
 * Review R7: built-ins replaced after import, above the core (crypto,
 * keys, enclave, agent). A program that replaces a `%TypedArray%`
 * getter, a typed-array method or a `Math` function after importing
 * secmem runs code inside the library at call time; these tests check by
 * outcome that such code neither receives a secret nor has the library's
 * arithmetic done in memory of its own.
 *
 * @module
 */

import assert from "node:assert/strict";
import { purge, SecretBuffer } from "../mod.ts";
import { aeadKey } from "../crypto.ts";
import { Ed25519Key, X25519Key } from "../keys.ts";
import { test } from "./_harness.ts";

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const accessor = (key: string) =>
  Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!;
const realBuffer = accessor("buffer").get!;
const realOffset = accessor("byteOffset").get!;
const realByteLength = Object.getOwnPropertyDescriptor(
  ArrayBuffer.prototype,
  "byteLength",
)!.get!;

/** The getters of `keys` on %TypedArray%.prototype replaced while `fn` runs. */
function gettersReplacedWhile<T>(
  replaced: Record<string, (this: unknown) => unknown>,
  fn: () => T,
): T {
  const saved: [string, PropertyDescriptor][] = [];
  try {
    for (const key of Object.keys(replaced)) {
      saved.push([key, accessor(key)]);
      Object.defineProperty(TypedArrayPrototype, key, {
        get: replaced[key],
        configurable: true,
      });
    }
    return fn();
  } finally {
    for (const [key, descriptor] of saved) {
      Object.defineProperty(TypedArrayPrototype, key, descriptor);
    }
  }
}

/**
 * `fn()` while `buffer` and `byteOffset` answer, for any view over a
 * buffer of 2 KiB or more (the library's work areas and pages; the test
 * makes none of its own), with a decoy the attacker keeps: a view the library
 * then builds from those answers puts its bytes in the decoy.
 */
function redirected<T>(decoy: ArrayBuffer, fn: () => T): T {
  const isTarget = (view: unknown) => {
    const buffer = Reflect.apply(realBuffer, view, []);
    return buffer !== decoy &&
      (Reflect.apply(realByteLength, buffer, []) as number) >= 2048;
  };
  return gettersReplacedWhile({
    buffer(this: unknown) {
      return isTarget(this) ? decoy : Reflect.apply(realBuffer, this, []);
    },
    byteOffset(this: unknown) {
      return isTarget(this) ? 0 : Reflect.apply(realOffset, this, []);
    },
  }, fn);
}

const allZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

test("TypedArray buffer/byteOffset getters replaced: XChaCha20-Poly1305 (aeadKey.encrypt) computes in the library's work area, not in the caller's decoy", () => {
  // A fresh work area: its cipher parts are built at the next call.
  purge();
  using secret = SecretBuffer.random(32);
  using key = aeadKey(secret);
  using plaintext = SecretBuffer.from(
    new Uint8Array(48).map((_, i) => 0x41 + i),
  );
  const decoy = new ArrayBuffer(8192);
  const message = redirected(decoy, () => key.encrypt(plaintext));
  const seen = new Uint8Array(decoy);
  // The ChaCha keystream block sits 64 bytes into the parts: with it, the
  // ciphertext gives the plaintext back.
  const recovered = message.subarray(24, 72).map((c, i) => c ^ seen[64 + i]);
  const leaked = plaintext.read((p) => p.every((b, i) => b === recovered[i]));
  assert.equal(leaked, false, "the decoy's keystream decrypts the message");
  assert.ok(allZero(seen), "no byte of the cipher's state reached the decoy");
  using back = key.decrypt(message);
  assert.ok(back.equals(plaintext), "the message still decrypts");
});

test("TypedArray buffer/byteOffset getters replaced: X25519 agree keeps its clamped scalar out of the caller's decoy", () => {
  const raw = new Uint8Array(32).map((_, i) => 0x10 + 7 * i);
  const clamped = raw.slice();
  clamped[0] &= 248;
  clamped[31] &= 127;
  clamped[31] |= 64;
  using mine = X25519Key.fromBytes(SecretBuffer.from(raw.slice()));
  using theirs = X25519Key.generate();
  using expected = mine.agree(theirs.publicKey);
  const decoy = new ArrayBuffer(8192);
  using shared = redirected(decoy, () => mine.agree(theirs.publicKey));
  const seen = new Uint8Array(decoy);
  let found = false;
  for (let at = 0; at + 32 <= seen.length && !found; at++) {
    found = clamped.every((b, i) => seen[at + i] === b);
  }
  assert.equal(found, false, "the decoy holds the private scalar");
  assert.ok(allZero(seen), "no byte of the ladder reached the decoy");
  assert.ok(shared.equals(expected), "the shared secret is unchanged");
});

test("TypedArray buffer/byteOffset getters replaced: Ed25519 sign keeps its scalar's arithmetic out of the caller's decoy", () => {
  using key = Ed25519Key.generate();
  const message = new Uint8Array([1, 2, 3]);
  const expected = key.sign(message);
  const decoy = new ArrayBuffer(8192);
  const signature = redirected(decoy, () => key.sign(message));
  assert.ok(
    allZero(new Uint8Array(decoy)),
    "no byte of the signing work reached the decoy",
  );
  assert.deepEqual(signature, expected, "the signature is unchanged");
});
