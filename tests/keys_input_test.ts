/**
 * The keys entry against careless and hostile callers: wrong lengths,
 * values that are not bytes (Proxies, look-alikes, detached buffers),
 * destroyed keys and buffers, low-order X25519 peers and non-canonical or
 * small-order Ed25519 encodings. Every bad argument gets a typed error (or
 * `false` from verify) and leaves nothing mapped. Also: the key objects
 * show no secret when printed, and hand out copies of their public key.
 *
 * @module
 */

import assert from "node:assert/strict";
import { inspect } from "node:util";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { SecretBuffer, stats } from "../mod.ts";
import { Ed25519Key, ed25519Verify, X25519Key } from "../keys.ts";
import { x25519, x25519Base } from "../src/keys/_x25519.ts";
import { ed25519PublicKey, ed25519Sign } from "../src/keys/_ed25519.ts";
import { ORDER } from "../src/keys/_scalar.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { fromHex, toHex } from "./_forensics.ts";
import { test } from "./_harness.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const proxied = (target: Uint8Array) =>
  new Proxy(target, { get: (t, key) => Reflect.get(t, key) });
const detached = () => {
  const array = new Uint8Array(32);
  structuredClone(array.buffer, { transfer: [array.buffer] });
  return array;
};
const notBytes = (): unknown[] => [
  "a string",
  42,
  null,
  undefined,
  new Array(32).fill(0),
  new Uint16Array(16),
  new DataView(new ArrayBuffer(32)),
  { length: 32 },
  Object.create(Uint8Array.prototype),
  proxied(new Uint8Array(32)),
  { [Symbol.toStringTag]: "Uint8Array", length: 32 },
];

/** Runs `fn` and checks that no buffer stayed mapped. */
function nothingMapped(what: string, fn: () => void): void {
  const before = stats();
  fn();
  assert.deepEqual(stats(), before, `${what}: nothing left mapped`);
}

test("fromSeed and fromBytes: anything but a live 32-byte SecretBuffer is refused, nothing mapped", () => {
  for (const make of [Ed25519Key.fromSeed, X25519Key.fromBytes]) {
    nothingMapped(make.name, () => {
      for (const value of [...notBytes(), new Uint8Array(32)]) {
        assertThrowsCode(() => make(value as Any), "INVALID_ARGUMENT");
      }
      for (const size of [1, 31, 33, 64]) {
        using wrong = SecretBuffer.alloc(size);
        assertThrowsCode(() => make(wrong), "INVALID_ARGUMENT");
      }
      const gone = SecretBuffer.random(32);
      gone.destroy();
      assertThrowsCode(() => make(gone), "DESTROYED");
      using ok = SecretBuffer.random(32);
      assertThrowsCode(
        () => make(ok, { lock: "sometimes" } as Any),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(
        () => make(ok, { colour: "red" } as Any),
        "INVALID_ARGUMENT",
      );
    });
  }
  for (const make of [Ed25519Key.generate, X25519Key.generate]) {
    nothingMapped(make.name, () => {
      assertThrowsCode(() => make({ lock: 7 } as Any), "INVALID_ARGUMENT");
      assertThrowsCode(() => make("options" as Any), "INVALID_ARGUMENT");
    });
  }
  assertThrowsCode(
    () => new (Ed25519Key as Any)(Symbol(), null),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(
    () => new (X25519Key as Any)(Symbol(), null),
    "INVALID_ARGUMENT",
  );
});

test("the key keeps its own copy: the caller's seed may be destroyed, and destroy() ends the key", () => {
  const before = stats();
  const seed = SecretBuffer.random(32);
  const key = Ed25519Key.fromSeed(seed);
  const publicKey = key.publicKey;
  seed.destroy();
  const message = new Uint8Array([1, 2, 3]);
  assert.equal(ed25519Verify(publicKey, message, key.sign(message)), true);
  // A fresh copy on each read: changing one changes nothing.
  key.publicKey.fill(0);
  assert.equal(toHex(key.publicKey), toHex(publicKey));
  assert.equal(Object.isFrozen(key), true);
  key.destroy();
  key.destroy();
  assert.equal(key.destroyed, true);
  assertThrowsCode(() => key.sign(message), "DESTROYED");
  assertThrowsCode(() => key.publicKey, "DESTROYED");
  const agreeing = X25519Key.generate();
  const peer = X25519Key.generate();
  {
    using _ = peer;
    agreeing[Symbol.dispose]();
  }
  assertThrowsCode(() => agreeing.agree(peer.publicKey), "DESTROYED");
  assertThrowsCode(() => peer.publicKey, "DESTROYED");
  assert.deepEqual(stats(), before, "nothing left mapped");
});

test("sign, agree and verify: arguments that are not bytes or not the right length, nothing mapped", () => {
  using signer = Ed25519Key.generate();
  using agreer = X25519Key.generate();
  const signature = signer.sign(new Uint8Array(3));
  nothingMapped("bad arguments", () => {
    for (const value of [...notBytes(), detached()]) {
      if (value instanceof Uint8Array) {
        // A detached view reads as empty: refused, not signed as "".
        assertThrowsCode(() => signer.sign(value), "INVALID_ARGUMENT");
      } else {
        assertThrowsCode(() => signer.sign(value as Any), "INVALID_ARGUMENT");
      }
      assertThrowsCode(() => agreer.agree(value as Any), "INVALID_ARGUMENT");
      assertThrowsCode(
        () => ed25519Verify(value as Any, new Uint8Array(0), signature),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(
        () => ed25519Verify(signer.publicKey, value as Any, signature),
        "INVALID_ARGUMENT",
      );
    }
    for (const length of [0, 31, 33]) {
      assertThrowsCode(
        () => agreer.agree(new Uint8Array(length)),
        "INVALID_ARGUMENT",
      );
      assert.equal(
        ed25519Verify(new Uint8Array(length), new Uint8Array(3), signature),
        false,
      );
    }
    for (const length of [0, 63, 65]) {
      const sig = new Uint8Array(length);
      sig.set(signature.subarray(0, Math.min(64, length)));
      assert.equal(
        ed25519Verify(signer.publicKey, new Uint8Array(3), sig),
        false,
      );
    }
    // The primitives check their output views too.
    const seed = new Uint8Array(32);
    assertThrowsCode(
      () => ed25519PublicKey(new Uint8Array(31), seed),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => ed25519Sign(new Uint8Array(63), seed, new Uint8Array(32), seed),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => x25519(new Uint8Array(32), seed, new Uint8Array(31)),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => x25519Base(new Uint8Array(33), seed),
      "INVALID_ARGUMENT",
    );
  });
});

// The u-coordinates of small order, and their non-canonical twins: X25519
// with any of them gives all zeros (RFC 7748 §6.1).
const LOW_ORDER_U = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

test("agree with a low-order peer: INVALID_KEY, the zero result unmapped", () => {
  using key = X25519Key.generate();
  nothingMapped("low-order peers", () => {
    for (const u of LOW_ORDER_U) {
      const error = assertThrowsCode(
        () => key.agree(fromHex(u)),
        "INVALID_KEY",
      );
      assert.match(error.message, /small order/);
    }
  });
});

// The eight points of small order on edwards25519, canonically encoded;
// checked against @noble/curves below.
const SMALL_ORDER_POINTS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
];

test("verify refuses small-order A and R, S >= L, and y >= p encodings", () => {
  // The list is what an independent library calls small order (x = 0 with
  // the sign bit set is not an encoding noble accepts either: skip it).
  for (const hex of SMALL_ORDER_POINTS) {
    if (hex.endsWith("80") && hex.startsWith("00")) continue;
    assert.equal(noble.Point.fromHex(hex).isSmallOrder(), true, hex);
  }
  const message = new TextEncoder().encode("small order");
  // With A and R of small order, S = 0 satisfies [S]B = R + [k]A for
  // every k that kills them: a forgery a lax verifier accepts.
  const zero = new Uint8Array(32);
  for (const a of SMALL_ORDER_POINTS) {
    for (const r of SMALL_ORDER_POINTS) {
      const sig = new Uint8Array(64);
      sig.set(fromHex(r));
      sig.set(zero, 32);
      assert.equal(ed25519Verify(fromHex(a), message, sig), false, `${a} ${r}`);
    }
  }
  using key = Ed25519Key.generate();
  const good = key.sign(message);
  assert.equal(ed25519Verify(key.publicKey, message, good), true);
  // Small-order R with a real key and S recomputed is still refused: R
  // itself is checked.
  for (const r of SMALL_ORDER_POINTS) {
    const sig = good.slice();
    sig.set(fromHex(r));
    assert.equal(ed25519Verify(key.publicKey, message, sig), false);
  }
  // S + L: the same point, a non-canonical scalar.
  const s = BigInt("0x" + toHex(good.subarray(32).slice().reverse()));
  const l = BigInt("0x" + toHex(ORDER.slice().reverse()));
  const bumped = s + l;
  const sig = good.slice();
  for (let i = 0; i < 32; i++) {
    sig[32 + i] = Number((bumped >> BigInt(8 * i)) & 0xffn);
  }
  assert.equal(ed25519Verify(key.publicKey, message, sig), false);
  // S = L exactly, and S = 2^256 - 1.
  sig.set(ORDER, 32);
  assert.equal(ed25519Verify(key.publicKey, message, sig), false);
  sig.fill(0xff, 32);
  assert.equal(ed25519Verify(key.publicKey, message, sig), false);
  // y >= p: every encoding from p to 2^255 - 1, both signs, as A and as R.
  for (let low = 0xed; low <= 0xff; low++) {
    for (const top of [0x7f, 0xff]) {
      const y = new Uint8Array(32).fill(0xff);
      y[0] = low;
      y[31] = top;
      assert.equal(ed25519Verify(y, message, good), false);
      const bad = good.slice();
      bad.set(y);
      assert.equal(ed25519Verify(key.publicKey, message, bad), false);
    }
  }
  // A y with no x (not on the curve): y = 2 is not a valid y here.
  const notOnCurve = new Uint8Array(32);
  notOnCurve[0] = 2;
  let onCurve = true;
  try {
    noble.Point.fromHex(toHex(notOnCurve));
  } catch {
    onCurve = false;
  }
  assert.equal(onCurve, false, "y = 2 is off the curve");
  assert.equal(ed25519Verify(notOnCurve, message, good), false);
});

test("printing a key shows no secret", () => {
  using seed = SecretBuffer.random(32);
  using key = Ed25519Key.fromSeed(seed);
  using agreer = X25519Key.fromBytes(seed);
  const hex = seed.read(toHex);
  for (const k of [key, agreer]) {
    const shown = [
      String(k),
      JSON.stringify({ k }),
      inspect(k),
      Object.prototype.toString.call(k),
      `${k}`,
    ].join(" ");
    assert(!shown.includes(hex.slice(0, 8)), shown);
    assert.match(String(k), /^(Ed25519|X25519)Key\(private\)$/);
  }
  key.destroy();
  assert.equal(String(key), "Ed25519Key(destroyed)");
});

test("views over shared memory sign and verify as their bytes do (copied first, so no other thread can change them mid-call)", () => {
  using key = Ed25519Key.generate();
  const plain = new TextEncoder().encode("a message in shared memory");
  const shared = new Uint8Array(new SharedArrayBuffer(plain.length));
  shared.set(plain);
  const signature = key.sign(shared);
  assert.equal(toHex(signature), toHex(key.sign(plain)));
  const sharedSig = new Uint8Array(new SharedArrayBuffer(64));
  sharedSig.set(signature);
  const sharedKey = new Uint8Array(new SharedArrayBuffer(32));
  sharedKey.set(key.publicKey);
  assert.equal(ed25519Verify(sharedKey, shared, sharedSig), true);
  sharedSig[40] ^= 1;
  assert.equal(ed25519Verify(sharedKey, shared, sharedSig), false);
  // The primitive writes R and S only once they are final, and reads the
  // public key and the message once each per hash from its own copies.
  const out = new Uint8Array(new SharedArrayBuffer(64));
  const seed = new Uint8Array(32).fill(9);
  const pk = new Uint8Array(32);
  ed25519PublicKey(pk, seed);
  ed25519Sign(out, seed, pk, shared);
  const again = new Uint8Array(64);
  ed25519Sign(again, seed, pk, plain);
  assert.equal(toHex(out), toHex(again));
});
