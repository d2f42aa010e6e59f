/**
 * Known answers for the keys entry: RFC 8032 §7.1 (Ed25519), RFC 7748
 * §5.2 and §6.1 (X25519, the iterated test to 1,000), all of Wycheproof's
 * ed25519_test.json and x25519_test.json (tests/vectors/, Apache-2.0,
 * C2SP/wycheproof testvectors_v1), and random keys cross-checked against
 * the runtime's node:crypto as an independent implementation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as nodeCrypto from "node:crypto";
import { SecretBuffer } from "../mod.ts";
import { Ed25519Key, ed25519Verify, X25519Key } from "../keys.ts";
import { x25519, x25519Base } from "../src/keys/_x25519.ts";
import {
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify as verifyRaw,
} from "../src/keys/_ed25519.ts";
import { fromHex, toHex } from "./_forensics.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";

const vectors = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`./vectors/${name}`, import.meta.url), "utf8"),
  );
const secret = (hex: string) => SecretBuffer.from(fromHex(hex));

interface Rfc8032Vector {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}

test("Ed25519: RFC 8032 §7.1 TEST 1, 2, 3, 1024 and SHA(abc)", () => {
  const { vectors: list } = vectors("rfc8032_ed25519.json") as {
    vectors: Rfc8032Vector[];
  };
  assert.deepEqual(list.map((v) => v.name), [
    "TEST 1",
    "TEST 2",
    "TEST 3",
    "TEST 1024",
    "TEST SHA(abc)",
  ]);
  assert.deepEqual(
    list.map((v) => v.message.length / 2),
    [0, 1, 2, 1023, 64],
  );
  for (const v of list) {
    using seed = secret(v.secretKey);
    using key = Ed25519Key.fromSeed(seed);
    const message = fromHex(v.message);
    assert.equal(toHex(key.publicKey), v.publicKey, `${v.name}: public key`);
    const signature = key.sign(message);
    assert.equal(toHex(signature), v.signature, `${v.name}: signature`);
    assert.equal(ed25519Verify(key.publicKey, message, signature), true);
    // The primitives, on plain views, give the same.
    const pk = new Uint8Array(32);
    ed25519PublicKey(pk, fromHex(v.secretKey));
    assert.equal(toHex(pk), v.publicKey);
    const sig = new Uint8Array(64);
    ed25519Sign(sig, fromHex(v.secretKey), pk, message);
    assert.equal(toHex(sig), v.signature);
    // One flipped bit anywhere in the signature or message: refused.
    for (const at of [0, 31, 32, 63]) {
      const bad = signature.slice();
      bad[at] ^= 1;
      assert.equal(ed25519Verify(key.publicKey, message, bad), false);
    }
    if (message.length > 0) {
      const bad = message.slice();
      bad[message.length - 1] ^= 0x80;
      assert.equal(ed25519Verify(key.publicKey, bad, signature), false);
    }
  }
});

// RFC 7748 §5.2.
const X25519_VECTORS: [string, string, string][] = [
  [
    "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
  ],
  [
    "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
  ],
];

test("X25519: RFC 7748 §5.2 vectors, and the iterated test to 1 and 1,000", () => {
  for (const [scalar, u, expected] of X25519_VECTORS) {
    const out = new Uint8Array(32);
    x25519(out, fromHex(scalar), fromHex(u));
    assert.equal(toHex(out), expected);
    using key = X25519Key.fromBytes(secret(scalar));
    using shared = key.agree(fromHex(u));
    assert.equal(shared.read(toHex), expected);
  }
  let k = new Uint8Array(32);
  k[0] = 9;
  let u = k.slice();
  const expected = new Map([
    [1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"],
    [1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"],
  ]);
  for (let i = 1; i <= 1000; i++) {
    const r = new Uint8Array(32);
    x25519(r, k, u);
    u = k;
    k = r;
    if (expected.has(i)) assert.equal(toHex(k), expected.get(i), `after ${i}`);
  }
});

test("X25519: RFC 7748 §6.1 Diffie-Hellman between Alice and Bob", () => {
  using alice = X25519Key.fromBytes(
    secret("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
  );
  using bob = X25519Key.fromBytes(
    secret("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"),
  );
  assert.equal(
    toHex(alice.publicKey),
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  );
  assert.equal(
    toHex(bob.publicKey),
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  );
  using one = alice.agree(bob.publicKey);
  using two = bob.agree(alice.publicKey);
  const shared =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  assert.equal(one.read(toHex), shared);
  assert.equal(two.read(toHex), shared);
});

interface WycheproofEddsa {
  testGroups: {
    publicKey: { pk: string };
    tests: {
      tcId: number;
      msg: string;
      sig: string;
      result: string;
      flags: string[];
    }[];
  }[];
}

test("Ed25519: every Wycheproof ed25519_test.json case (valid verifies, invalid does not)", () => {
  const file = vectors("wycheproof_ed25519_test.json") as WycheproofEddsa;
  let valid = 0;
  let invalid = 0;
  for (const group of file.testGroups) {
    const pk = fromHex(group.publicKey.pk);
    for (const t of group.tests) {
      const expected = t.result === "valid";
      assert.ok(t.result === "valid" || t.result === "invalid");
      const got = ed25519Verify(pk, fromHex(t.msg), fromHex(t.sig));
      assert.equal(got, expected, `tcId ${t.tcId} (${t.flags.join(", ")})`);
      if (expected) valid++;
      else invalid++;
    }
  }
  assert.deepEqual([valid, invalid], [88, 63]);
});

interface WycheproofXdh {
  testGroups: {
    curve: string;
    tests: {
      tcId: number;
      public: string;
      private: string;
      shared: string;
      result: string;
      flags: string[];
    }[];
  }[];
}

test("X25519: every Wycheproof x25519_test.json case; an all-zero result is refused by agree", () => {
  const file = vectors("wycheproof_x25519_test.json") as WycheproofXdh;
  let cases = 0;
  let refused = 0;
  for (const group of file.testGroups) {
    assert.equal(group.curve, "curve25519");
    for (const t of group.tests) {
      // "acceptable" cases (twist points, non-canonical u) have a defined
      // RFC 7748 answer too; there is no "invalid" case in this file.
      assert.notEqual(t.result, "invalid");
      const out = new Uint8Array(32);
      x25519(out, fromHex(t.private), fromHex(t.public));
      assert.equal(toHex(out), t.shared, `tcId ${t.tcId}`);
      using key = X25519Key.fromBytes(secret(t.private));
      if (/^0+$/.test(t.shared)) {
        assertThrowsCode(() => key.agree(fromHex(t.public)), "INVALID_KEY");
        refused++;
      } else {
        using shared = key.agree(fromHex(t.public));
        assert.equal(shared.read(toHex), t.shared, `tcId ${t.tcId}`);
      }
      cases++;
    }
  }
  assert.equal(cases, 518);
  assert.ok(refused >= 31, `${refused} all-zero results refused`);
});

const ED_PKCS8 = fromHex("302e020100300506032b657004220420");
const X_PKCS8 = fromHex("302e020100300506032b656e04220420");
const ED_SPKI = fromHex("302a300506032b6570032100");
const X_SPKI = fromHex("302a300506032b656e032100");
const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

test("Ed25519: random keys and messages agree with node:crypto both ways", () => {
  for (let i = 0; i < 40; i++) {
    const seedBytes = new Uint8Array(nodeCrypto.randomBytes(32));
    const message = new Uint8Array(nodeCrypto.randomBytes(i * 37 % 300));
    const theirs = nodeCrypto.createPrivateKey({
      key: Buffer.from(concat(ED_PKCS8, seedBytes)),
      format: "der",
      type: "pkcs8",
    });
    const theirPublic = new Uint8Array(
      nodeCrypto.createPublicKey(theirs).export({
        format: "der",
        type: "spki",
      }),
    ).subarray(12);
    using seed = SecretBuffer.from(seedBytes);
    using key = Ed25519Key.fromSeed(seed);
    assert.equal(toHex(key.publicKey), toHex(theirPublic));
    const mine = key.sign(message);
    const reference = new Uint8Array(nodeCrypto.sign(null, message, theirs));
    assert.equal(toHex(mine), toHex(reference));
    const publicObject = nodeCrypto.createPublicKey({
      key: Buffer.from(concat(ED_SPKI, key.publicKey)),
      format: "der",
      type: "spki",
    });
    assert.equal(nodeCrypto.verify(null, message, publicObject, mine), true);
    assert.equal(ed25519Verify(theirPublic, message, reference), true);
    assert.equal(verifyRaw(theirPublic, message, reference), true);
  }
});

test("X25519: random keys agree with node:crypto; the base multiplication equals the ladder at u = 9", () => {
  const nine = new Uint8Array(32);
  nine[0] = 9;
  for (let i = 0; i < 40; i++) {
    const mineBytes = new Uint8Array(nodeCrypto.randomBytes(32));
    const theirs = nodeCrypto.generateKeyPairSync("x25519");
    const theirPublic = new Uint8Array(
      theirs.publicKey.export({ format: "der", type: "spki" }),
    ).subarray(12);
    using key = X25519Key.fromBytes(SecretBuffer.from(mineBytes.slice()));
    const mineObject = nodeCrypto.createPrivateKey({
      key: Buffer.from(concat(X_PKCS8, mineBytes)),
      format: "der",
      type: "pkcs8",
    });
    const minePublic = new Uint8Array(
      nodeCrypto.createPublicKey(mineObject).export({
        format: "der",
        type: "spki",
      }),
    ).subarray(12);
    assert.equal(toHex(key.publicKey), toHex(minePublic));
    using shared = key.agree(theirPublic);
    const reference = nodeCrypto.diffieHellman({
      privateKey: theirs.privateKey,
      publicKey: nodeCrypto.createPublicKey({
        key: Buffer.from(concat(X_SPKI, key.publicKey)),
        format: "der",
        type: "spki",
      }),
    });
    assert.equal(shared.read(toHex), toHex(new Uint8Array(reference)));
  }
  // Edge scalars: the clamp makes these well defined.
  for (const fill of [0x00, 0xff, 0x55, 0x80]) {
    const scalar = new Uint8Array(32).fill(fill);
    const viaBase = new Uint8Array(32);
    const viaLadder = new Uint8Array(32);
    x25519Base(viaBase, scalar);
    x25519(viaLadder, scalar, nine);
    assert.equal(toHex(viaBase), toHex(viaLadder), `scalar of 0x${fill}`);
  }
});
