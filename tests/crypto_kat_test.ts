/**
 * Known answers for the crypto entry and its cipher core: RFC 4231 (HMAC),
 * RFC 5869 (HKDF), RFC 7914 (scrypt), RFC 8439 (ChaCha20, Poly1305,
 * ChaCha20-Poly1305) and draft-irtf-cfrg-xchacha-03 (HChaCha20,
 * XChaCha20-Poly1305). Vectors are copied from the documents.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer } from "../mod.ts";
import {
  aeadKey,
  decrypt,
  encrypt,
  hkdf,
  hmac,
  hmacKey,
  hmacVerify,
  scrypt,
  scryptSync,
} from "../crypto.ts";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { createHmac, hkdfSync } from "node:crypto";
import { Hmac } from "../src/crypto/_hmac.ts";
import { SHA256, SHA512 } from "../src/crypto/_sha2.ts";
import { ChaCha } from "../src/crypto/_chacha.ts";
import { Poly1305 } from "../src/crypto/_poly1305.ts";
import { openInto, sealInto, spanOf } from "../src/crypto/_aead.ts";
import { withWork } from "../src/crypto/_work.ts";
import { fromHex, toHex } from "./_forensics.ts";
import { test } from "./_harness.ts";

const text = (s: string) => new TextEncoder().encode(s);
const fill = (byte: number, length: number) =>
  new Uint8Array(length).fill(byte);
const range = (from: number, to: number) =>
  new Uint8Array(to - from + 1).map((_, i) => from + i);
const hexOf = (buffer: SecretBuffer) => buffer.read((b) => toHex(b));
const secret = (bytes: Uint8Array) => SecretBuffer.from(bytes.slice());

// RFC 4231 section 4: [key, data, HMAC-SHA-256, HMAC-SHA-512, truncate].
const RFC4231: [Uint8Array, Uint8Array, string, string, number?][] = [
  [
    fill(0x0b, 20),
    text("Hi There"),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde" +
    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
  ],
  [
    text("Jefe"),
    text("what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554" +
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
  ],
  [
    fill(0xaa, 20),
    fill(0xdd, 50),
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39" +
    "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
  ],
  [
    range(0x01, 0x19),
    fill(0xcd, 50),
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db" +
    "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
  ],
  [
    fill(0x0c, 20),
    text("Test With Truncation"),
    "a3b6167473100ee06e0c796c2955552b",
    "415fad6271580a531d4179bc891d87a6",
    16,
  ],
  [
    fill(0xaa, 131),
    text("Test Using Larger Than Block-Size Key - Hash Key First"),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352" +
    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
  ],
  [
    fill(0xaa, 131),
    text(
      "This is a test using a larger than block-size key and a larger than block-size data." +
        " The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944" +
    "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
  ],
];

test("HMAC: RFC 4231 test cases 1-7, SHA-256 and SHA-512", () => {
  for (const [index, [key, data, h256, h512, cut]] of RFC4231.entries()) {
    for (const [name, expected] of [["SHA-256", h256], ["SHA-512", h512]]) {
      // Case 2's 4-byte key is below hmac()'s minimum: the core runs it.
      const algorithm = name === "SHA-256" ? SHA256 : SHA512;
      const core = new Uint8Array(algorithm.outputLength);
      withWork(Hmac.size(algorithm), (area) => {
        const mac = new Hmac(algorithm, area, 0);
        mac.init(key, 0, key.length);
        mac.update(data, 0, data.length);
        mac.finish(core, 0);
      });
      assert.equal(
        toHex(core).slice(0, expected.length),
        expected,
        `case ${index + 1} ${name} (core)`,
      );
      if (key.length < 16) continue;
      using k = secret(key);
      const tag = hmac(name as "SHA-256", k, data);
      assert.equal(
        toHex(tag).slice(0, cut ? 2 * cut : undefined),
        expected,
        `case ${index + 1} ${name}`,
      );
      using d = secret(data);
      assert.equal(
        toHex(hmac(name as "SHA-256", k, d)),
        toHex(tag),
        "data as a SecretBuffer",
      );
    }
  }
});

test("HKDF: RFC 5869 test cases 1-3 (SHA-256)", () => {
  const cases: [
    Uint8Array,
    Uint8Array | undefined,
    Uint8Array | undefined,
    number,
    string,
  ][] = [
    [
      fill(0x0b, 22),
      range(0x00, 0x0c),
      range(0xf0, 0xf9),
      42,
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ],
    [
      range(0x00, 0x4f),
      range(0x60, 0xaf),
      range(0xb0, 0xff),
      82,
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c" +
      "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71" +
      "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ],
    [
      fill(0x0b, 22),
      undefined,
      undefined,
      42,
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    ],
  ];
  for (const [index, [ikm, salt, info, length, expected]] of cases.entries()) {
    using key = secret(ikm);
    using okm = hkdf("SHA-256", key, { salt, info, length });
    assert.equal(hexOf(okm), expected, `case ${index + 1}`);
    assert.equal(okm.state, "noaccess", "the output is at rest");
  }
  // Case 3 with an explicit empty salt is the same derivation.
  using key = secret(fill(0x0b, 22));
  using okm = hkdf("SHA-256", key, { salt: new Uint8Array(0), length: 42 });
  assert.equal(hexOf(okm), cases[2][4]);
});

const RFC7914: [string, string, number, number, number, string][] = [
  [
    "",
    "",
    16,
    1,
    1,
    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442" +
    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
  ],
  [
    "password",
    "NaCl",
    1024,
    8,
    16,
    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162" +
    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
  ],
  [
    "pleaseletmein",
    "SodiumChloride",
    16384,
    8,
    1,
    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2" +
    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
  ],
];

test("scrypt: RFC 7914 section 12 vectors 1-3, sync and async", async () => {
  for (const [index, [pw, salt, N, r, p, expected]] of RFC7914.entries()) {
    using passphrase = secret(text(pw));
    // 16 MiB of V exceeds a common 8 MiB RLIMIT_MEMLOCK.
    const options = { lock: "best-effort" } as const;
    const params = { salt: text(salt), N, r, p, length: 64 };
    using sync = scryptSync(passphrase, params, options);
    assert.equal(hexOf(sync), expected, `vector ${index + 1} (sync)`);
    if (N > 1024) continue;
    using later = await scrypt(passphrase, params, options);
    assert.equal(hexOf(later), expected, `vector ${index + 1} (async)`);
  }
});

const SUNSCREEN = text(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
);

test("ChaCha20: RFC 8439 2.3.2 block and 2.4.2 encryption", () => {
  withWork(128, (area) => {
    const chacha = new ChaCha(area, 0);
    const key = range(0x00, 0x1f);
    chacha.init(key, 0, 1, fromHex("000000090000004a00000000"), 0);
    chacha.next();
    assert.equal(
      toHex(chacha.keystream),
      "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
    );
    chacha.init(key, 0, 1, fromHex("000000000000004a00000000"), 0);
    const out = new Uint8Array(SUNSCREEN.length);
    for (let done = 0; done < SUNSCREEN.length; done += 64) {
      chacha.next();
      for (let i = 0; i < 64 && done + i < out.length; i++) {
        out[done + i] = SUNSCREEN[done + i] ^ chacha.keystream[i];
      }
    }
    assert.equal(
      toHex(out),
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
        "5af90bbf74a35be6b40b8eedf2785e42874d",
    );
  });
});

test("Poly1305: RFC 8439 2.5.2, and a partial final block", () => {
  withWork(512, (area) => {
    const poly = new Poly1305(area, 0);
    poly.init(
      fromHex(
        "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
      ),
      0,
    );
    const message = text("Cryptographic Forum Research Group");
    poly.update(message, 0, message.length, false);
    const tag = new Uint8Array(16);
    poly.finish(tag, 0);
    assert.equal(toHex(tag), "a8061dc1305136c6c22b8baf0c0127a9");
  });
});

test("HChaCha20: draft-irtf-cfrg-xchacha 2.2.1", () => {
  withWork(160, (area) => {
    const chacha = new ChaCha(area, 0);
    const nonce = fromHex("000000090000004a0000000031415927");
    chacha.init(range(0x00, 0x1f), 0, 0x09000000, nonce, 4);
    chacha.subkeyInto(area, 128);
    assert.equal(
      toHex(area.subarray(128, 160)),
      "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc",
    );
  });
});

const AAD = fromHex("50515253c0c1c2c3c4c5c6c7");
const KEY = range(0x80, 0x9f);

test("ChaCha20-Poly1305: RFC 8439 2.8.2", () => {
  const nonce = fromHex("070000004041424344454647");
  const out = new Uint8Array(SUNSCREEN.length + 16);
  sealInto(spanOf(KEY), spanOf(nonce), spanOf(AAD), spanOf(SUNSCREEN), out, 0);
  assert.equal(
    toHex(out),
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
      "3ff4def08e4b7a9de576d26586cec64b6116" +
      "1ae10b594f09e26a7e902ecbd0600691",
  );
  const back = new Uint8Array(SUNSCREEN.length);
  assert(
    openInto(spanOf(KEY), spanOf(nonce), spanOf(AAD), spanOf(out), back, 0),
  );
  assert.deepEqual(back, SUNSCREEN);
});

const XCHACHA_NONCE = fromHex(
  "404142434445464748494a4b4c4d4e4f5051525354555657",
);
const XCHACHA_SEALED =
  "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb" +
  "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452" +
  "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9" +
  "21f9664c97637da9768812f615c68b13b52e" +
  "c0875924c1c7987947deafd8780acf49";

test("XChaCha20-Poly1305: draft-irtf-cfrg-xchacha A.3.1, core and decrypt()", () => {
  const out = new Uint8Array(SUNSCREEN.length + 16);
  sealInto(
    spanOf(KEY),
    spanOf(XCHACHA_NONCE),
    spanOf(AAD),
    spanOf(SUNSCREEN),
    out,
    0,
  );
  assert.equal(toHex(out), XCHACHA_SEALED);
  // The entry's message format: nonce ‖ ciphertext ‖ tag.
  using key = secret(KEY);
  const message = fromHex(toHex(XCHACHA_NONCE) + XCHACHA_SEALED);
  using plain = decrypt(key, message, { aad: AAD });
  assert(plain.equals(SUNSCREEN));
});

/** Poly1305 straight from its definition, with BigInt (tests only). */
function referencePoly1305(key: Uint8Array, message: Uint8Array): string {
  const le = (bytes: Uint8Array) =>
    bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);
  const p = (1n << 130n) - 5n;
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  let h = 0n;
  for (let at = 0; at < message.length; at += 16) {
    const chunk = message.subarray(at, at + 16);
    h = ((h + le(chunk) + (1n << BigInt(8 * chunk.length))) * r) % p;
  }
  let tag = (h + s) & ((1n << 128n) - 1n);
  let hex = "";
  for (let i = 0; i < 16; i++) {
    hex += (tag & 0xffn).toString(16).padStart(2, "0");
    tag >>= 8n;
  }
  return hex;
}

test("Poly1305 agrees with a BigInt reference on edge keys and messages", () => {
  const keys = [
    fill(0xff, 32),
    fill(0x00, 32),
    new Uint8Array(32).map((_, i) => (i < 16 ? 0xff : 0)),
    new Uint8Array(32).map((_, i) => (i < 16 ? 0 : 0xff)),
    range(0x40, 0x5f),
  ];
  const messages = [
    new Uint8Array(0),
    fill(0xff, 16),
    fill(0xff, 17),
    fill(0xff, 64),
    fill(0xff, 1000),
    // 2^130 - 5 - 1 and friends, as a message block: near p.
    fromHex("fbffffffffffffffffffffffffffffff"),
    fromHex("faffffffffffffffffffffffffffffff03"),
    range(0, 255),
  ];
  let state = 1;
  const random = (n: number) =>
    new Uint8Array(n).map(() => (state = (state * 48271) % 0x7fffffff) & 0xff);
  for (let i = 0; i < 40; i++) {
    keys.push(random(32));
    messages.push(random(i * 7));
  }
  withWork(512, (area) => {
    const poly = new Poly1305(area, 0);
    const tag = new Uint8Array(16);
    for (const key of keys) {
      for (const message of messages) {
        poly.init(key, 0);
        poly.update(message, 0, message.length, false);
        poly.finish(tag, 0);
        assert.equal(toHex(tag), referencePoly1305(key, message));
      }
    }
  });
});

test("encrypt/decrypt: round trips around the block sizes; the message is nonce ‖ ciphertext ‖ tag", () => {
  using key = SecretBuffer.random(32);
  const raw = key.read((k) => k.slice());
  for (const size of [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000]) {
    const bytes = range(0, size - 1).map((b) => b ^ size);
    const aad = size % 2 === 0 ? undefined : fill(size & 0xff, size % 7);
    using plain = SecretBuffer.from(bytes.slice());
    for (const input of [plain, bytes]) {
      const message = encrypt(
        key,
        input,
        aad === undefined ? undefined : { aad },
      );
      assert.equal(message.length, size + 40);
      using back = decrypt(key, message, { aad });
      assert(back.equals(bytes), `size ${size}`);
      // An independent implementation opens the same bytes.
      const opened = xchacha20poly1305(raw, message.subarray(0, 24), aad)
        .decrypt(message.subarray(24));
      assert.deepEqual([...opened], [...bytes]);
    }
  }
  raw.fill(0);
});

test("HMAC and HKDF (SHA-256 and SHA-512) agree with node:crypto on lengths around the blocks", () => {
  for (const size of [16, 63, 64, 65, 127, 128, 129, 200, 1000]) {
    const raw = range(0, size - 1).map((b) => (b * 13) ^ size);
    const data = range(0, (size * 3) % 301).map((b) => b ^ 0x5a);
    using key = SecretBuffer.from(raw.slice());
    for (const [name, node] of [["SHA-256", "sha256"], ["SHA-512", "sha512"]]) {
      assert.equal(
        toHex(hmac(name as "SHA-256", key, data)),
        createHmac(node, raw).update(data).digest("hex"),
        `hmac ${name} key ${size}`,
      );
      const length = Math.min(size, name === "SHA-256" ? 255 * 32 : 255 * 64);
      using okm = hkdf(name as "SHA-256", key, {
        salt: data,
        info: raw,
        length,
      });
      assert.equal(
        hexOf(okm),
        toHex(new Uint8Array(hkdfSync(node, raw, data, raw, length))),
        `hkdf ${name} ${size}`,
      );
    }
  }
});

test("hmacKey, hmacVerify: RFC 4231 test cases 1-7, both rests, short keys only when allowed", () => {
  for (const [index, [key, data, h256, h512, cut]] of RFC4231.entries()) {
    for (const [name, expected] of [["SHA-256", h256], ["SHA-512", h512]]) {
      const hash = name as "SHA-256" | "SHA-512";
      using k = secret(key);
      const short = key.length < 16;
      for (const rest of ["noaccess", "readwrite"] as const) {
        if (short) {
          // Case 2's 4-byte key: refused by default, accepted when asked.
          assert.throws(() => hmacKey(hash, k, { rest }), /at least 16 bytes/);
        }
        using context = hmacKey(hash, k, {
          rest,
          ...(short ? { allowShortKey: true } : {}),
        });
        // Twice: a call must leave the context as it found it.
        for (let round = 0; round < 2; round++) {
          const tag = context.mac(data);
          assert.equal(
            toHex(tag).slice(0, cut ? 2 * cut : undefined),
            expected,
            `case ${index + 1} ${name} rest ${rest} round ${round}`,
          );
          assert(context.verify(data, tag), "verify accepts the MAC");
          using d = secret(data);
          assert(context.verify(d, tag), "data as a SecretBuffer");
          const wrong = tag.slice();
          wrong[wrong.length - 1] ^= 1;
          assert(!context.verify(data, wrong), "a changed tag fails");
          assert(!context.verify(data, tag.subarray(0, 16)), "a cut tag fails");
          const options = short ? { allowShortKey: true } : undefined;
          assert(hmacVerify(hash, k, data, tag, options), "hmacVerify");
          assert(
            !hmacVerify(hash, k, data, wrong, options),
            "hmacVerify fails",
          );
          assert.equal(
            toHex(hmac(hash, k, data, options)),
            toHex(tag),
            "one-shot agrees",
          );
        }
      }
    }
  }
});

test("hmacKey agrees with node:crypto on lengths around the blocks, many keys interleaved", () => {
  const keys = [16, 32, 64, 65, 128, 129, 200].map((n) => range(1, n));
  const contexts = keys.map((key) => {
    // A context keeps its own state: the key can go at once.
    using k = secret(key);
    return {
      key,
      s256: hmacKey("SHA-256", k, { rest: "readwrite" }),
      s512: hmacKey("SHA-512", k),
    };
  });
  try {
    for (
      const size of [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000]
    ) {
      const data = range(0, size - 1).map((b) => b ^ 0x5a);
      for (const { key, s256, s512 } of contexts) {
        assert.equal(
          toHex(s256.mac(data)),
          createHmac("sha256", key).update(data).digest("hex"),
          `SHA-256 key ${key.length} data ${size}`,
        );
        assert.equal(
          toHex(s512.mac(data)),
          createHmac("sha512", key).update(data).digest("hex"),
          `SHA-512 key ${key.length} data ${size}`,
        );
      }
    }
  } finally {
    for (const { s256, s512 } of contexts) {
      s256.destroy();
      s512.destroy();
    }
  }
});

test("aeadKey: draft-irtf-cfrg-xchacha A.3.1, and round trips against noble around the block sizes", () => {
  using key = secret(KEY);
  const message = fromHex(toHex(XCHACHA_NONCE) + XCHACHA_SEALED);
  for (const rest of ["noaccess", "readwrite"] as const) {
    using context = aeadKey(key, { rest });
    using plain = context.decrypt(message, { aad: AAD });
    assert(plain.equals(SUNSCREEN), `rest ${rest}`);
    for (const size of [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000]) {
      const bytes = range(0, size - 1).map((b) => b ^ size);
      const aad = size % 2 === 0 ? undefined : fill(size & 0xff, size % 7);
      using source = SecretBuffer.from(bytes.slice());
      for (const input of [source, bytes]) {
        const sealed = context.encrypt(input, aad && { aad });
        assert.equal(sealed.length, size + 40);
        using back = context.decrypt(sealed, { aad });
        assert(back.equals(bytes), `size ${size}`);
        using oneShot = decrypt(key, sealed, { aad });
        assert(oneShot.equals(bytes), "the one-shot opens it");
        const opened = xchacha20poly1305(KEY, sealed.subarray(0, 24), aad)
          .decrypt(sealed.subarray(24));
        assert.deepEqual([...opened], [...bytes], "noble opens it");
        using fromOneShot = context.decrypt(
          encrypt(key, bytes, aad && { aad }),
          {
            aad,
          },
        );
        assert(fromOneShot.equals(bytes), "it opens the one-shot's");
      }
    }
  }
});
