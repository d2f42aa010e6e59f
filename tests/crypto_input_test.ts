/**
 * The crypto entry against careless and hostile callers: every bad
 * argument gets a typed error and leaves nothing mapped; Proxies, lying
 * lengths, throwing getters and detached buffers never crash, and never
 * change what is read.
 *
 * @module
 */

import assert from "node:assert/strict";
import { purge, SecretBuffer, stats } from "../mod.ts";
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
import { AREA_SIZE, withArea } from "../src/crypto/_work.ts";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";
import { childScript, runChild } from "./_child.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const bytes = (n: number, k = 7) =>
  new Uint8Array(n).map((_, i) => (i * k + 1) & 0xff);
const salt = bytes(16, 3);
const scryptParams = { salt, N: 16, r: 1, p: 1, length: 32 };

/** A Proxy that answers like a Uint8Array to every ordinary question. */
const proxied = (target: Uint8Array) =>
  new Proxy(target, {
    get: (t, key) => Reflect.get(t, key),
  });

/** Bytes whose buffer was transferred away. */
const detached = () => {
  const array = bytes(16);
  structuredClone(array.buffer, { transfer: [array.buffer] });
  return array;
};

/** Values that are not a Uint8Array, though some pretend to be. */
const notBytes = (): unknown[] => [
  "a string",
  42,
  null,
  [1, 2, 3],
  new Uint16Array(8),
  new DataView(new ArrayBuffer(8)),
  { length: 8, 0: 1 },
  Object.create(Uint8Array.prototype),
  proxied(bytes(8)),
  { [Symbol.toStringTag]: "Uint8Array", length: 4 },
];

/** Runs `fn` and checks that no buffer stayed mapped. */
function nothingMapped(what: string, fn: () => void): void {
  const before = stats();
  fn();
  assert.deepEqual(stats(), before, `${what}: nothing left mapped`);
}

test("unknown hash names: INVALID_ARGUMENT, nothing mapped", () => {
  using key = SecretBuffer.random(32);
  for (const hash of ["sha256", "SHA-1", "MD5", "", undefined, {}, "SHA-384"]) {
    nothingMapped(String(hash), () => {
      assertThrowsCode(() => hmac(hash as Any, key, salt), "INVALID_ARGUMENT");
      assertThrowsCode(
        () => hkdf(hash as Any, key, { length: 32 }),
        "INVALID_ARGUMENT",
      );
    });
  }
});

test("keys: short, wrong size, not a SecretBuffer, destroyed", () => {
  for (const size of [0, 1, 15]) {
    using short = SecretBuffer.random(size);
    nothingMapped(`hmac ${size}`, () => {
      const error = assertThrowsCode(
        () => hmac("SHA-256", short, salt),
        "INVALID_ARGUMENT",
      );
      assert.match(error.message, /at least 16 bytes/);
    });
  }
  using sixteen = SecretBuffer.random(16);
  assert.equal(hmac("SHA-512", sixteen, salt).length, 64, "16 bytes is fine");
  for (const size of [0, 15, 16, 31, 33, 64]) {
    using key = SecretBuffer.random(size);
    nothingMapped(`encrypt ${size}`, () => {
      assertThrowsCode(() => encrypt(key, salt), "INVALID_ARGUMENT");
      assertThrowsCode(
        () => decrypt(key, new Uint8Array(64)),
        "INVALID_ARGUMENT",
      );
    });
  }
  const fakes: unknown[] = [
    bytes(32),
    { [Symbol.toStringTag]: "SecretBuffer", size: 32, read: () => 0 },
    Object.create(SecretBuffer.prototype),
    proxied(bytes(32)),
    undefined,
  ];
  for (const fake of fakes) {
    nothingMapped("fake key", () => {
      assertThrowsCode(
        () => hmac("SHA-256", fake as Any, salt),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(() => encrypt(fake as Any, salt), "INVALID_ARGUMENT");
      assertThrowsCode(
        () => hkdf("SHA-256", fake as Any, { length: 8 }),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(
        () => scryptSync(fake as Any, scryptParams),
        "INVALID_ARGUMENT",
      );
    });
  }
  const gone = SecretBuffer.random(32);
  gone.destroy();
  using key = SecretBuffer.random(32);
  const message = encrypt(key, salt);
  nothingMapped("destroyed", () => {
    assertThrowsCode(() => hmac("SHA-256", gone, salt), "DESTROYED");
    assertThrowsCode(() => hmac("SHA-256", key, gone), "DESTROYED");
    assertThrowsCode(() => hkdf("SHA-256", gone, { length: 8 }), "DESTROYED");
    assertThrowsCode(() => scryptSync(gone, scryptParams), "DESTROYED");
    assertThrowsCode(() => encrypt(gone, salt), "DESTROYED");
    assertThrowsCode(() => encrypt(key, gone), "DESTROYED");
    assertThrowsCode(() => decrypt(gone, message), "DESTROYED");
  });
});

test("hkdf lengths outside 1..255 x hash length: INVALID_SIZE", () => {
  using ikm = SecretBuffer.random(32);
  const cases: [string, unknown][] = [
    ["SHA-256", 255 * 32 + 1],
    ["SHA-512", 255 * 64 + 1],
    ["SHA-256", 0],
    ["SHA-256", -1],
    ["SHA-256", 1.5],
    ["SHA-256", "32"],
    ["SHA-256", undefined],
    ["SHA-256", NaN],
  ];
  for (const [hash, length] of cases) {
    nothingMapped(`${hash} ${String(length)}`, () => {
      assertThrowsCode(
        () => hkdf(hash as "SHA-256", ikm, { length: length as number }),
        "INVALID_SIZE",
      );
    });
  }
  using longest = hkdf("SHA-256", ikm, { length: 255 * 32 });
  assert.equal(longest.size, 8160);
});

test("salt, info, aad, data, message and plaintext of the wrong type: INVALID_ARGUMENT", () => {
  using key = SecretBuffer.random(32);
  using pw = SecretBuffer.random(8);
  const message = encrypt(key, salt);
  for (const bad of [...notBytes(), detached()]) {
    nothingMapped("bad bytes", () => {
      assertThrowsCode(
        () => hmac("SHA-256", key, bad as Any),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(
        () => hkdf("SHA-256", key, { salt: bad as Any, length: 8 }),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(
        () => hkdf("SHA-256", key, { info: bad as Any, length: 8 }),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(
        () => scryptSync(pw, { ...scryptParams, salt: bad as Any }),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(() => encrypt(key, bad as Any), "INVALID_ARGUMENT");
      assertThrowsCode(
        () => encrypt(key, salt, { aad: bad as Any }),
        "INVALID_ARGUMENT",
      );
      assertThrowsCode(() => decrypt(key, bad as Any), "INVALID_ARGUMENT");
      assertThrowsCode(
        () => decrypt(key, message, { aad: bad as Any }),
        "INVALID_ARGUMENT",
      );
    });
  }
  for (const params of [null, 5, "aad", { aad: salt, extra: 1 }]) {
    assertThrowsCode(
      () => encrypt(key, salt, params as Any),
      "INVALID_ARGUMENT",
    );
  }
  assertThrowsCode(
    () => hkdf("SHA-256", key, { length: 8, sault: salt } as Any),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(() => decrypt(key, new Uint8Array(39)), "INVALID_ARGUMENT");
});

test("scrypt parameters out of range: INVALID_ARGUMENT, before anything is mapped", async () => {
  using pw = SecretBuffer.random(8);
  const bad: Record<string, unknown>[] = [
    { N: 3 },
    { N: 1 },
    { N: 0 },
    { N: 2.5 },
    { N: 1000 },
    { N: -16 },
    { N: "16" },
    { r: 0 },
    { p: 0 },
    { r: 1.5 },
    // 128 · r · N above 1 GiB.
    { N: 2 ** 20, r: 8 },
    { N: 2 ** 23, r: 1, p: 2 ** 14 },
  ];
  for (const change of bad) {
    const params = { ...scryptParams, ...change } as Any;
    const before = stats();
    assertThrowsCode(() => scryptSync(pw, params), "INVALID_ARGUMENT");
    await assertRejectsCode(() => scrypt(pw, params), "INVALID_ARGUMENT");
    assert.deepEqual(stats(), before, JSON.stringify(change));
  }
  for (const length of [0, 1.5, 2 ** 31]) {
    assertThrowsCode(
      () => scryptSync(pw, { ...scryptParams, length }),
      "INVALID_SIZE",
    );
  }
  const gone = SecretBuffer.random(8);
  gone.destroy();
  await assertRejectsCode(() => scrypt(gone, scryptParams), "DESTROYED");
});

test("a modified message, wrong aad or wrong key: INTEGRITY, nothing mapped", () => {
  using key = SecretBuffer.random(32);
  using other = SecretBuffer.random(32);
  using plain = SecretBuffer.random(70);
  const aad = bytes(5);
  const message = encrypt(key, plain, { aad });
  assert.equal(message.length, 70 + 40);
  for (let at = 0; at < message.length; at++) {
    message[at] ^= 0x80;
    nothingMapped(`byte ${at}`, () => {
      assertThrowsCode(() => decrypt(key, message, { aad }), "INTEGRITY");
    });
    message[at] ^= 0x80;
  }
  nothingMapped("aad and key", () => {
    assertThrowsCode(() => decrypt(key, message), "INTEGRITY");
    assertThrowsCode(
      () => decrypt(key, message, { aad: bytes(6) }),
      "INTEGRITY",
    );
    assertThrowsCode(() => decrypt(other, message, { aad }), "INTEGRITY");
    assertThrowsCode(
      () => decrypt(key, message.subarray(0, 100), { aad }),
      "INTEGRITY",
    );
  });
  using back = decrypt(key, message, { aad });
  assert(back.equals(plain));
});

test("hostile values never change what is read", () => {
  using key = SecretBuffer.random(32);
  const data = bytes(40);
  const honest = hmac("SHA-256", key, data);
  // An own `length` that lies, and a patched subarray/slice on the array.
  const liar = data.slice();
  Object.defineProperty(liar, "length", { get: () => 3 });
  Object.defineProperty(liar, "subarray", { value: () => new Uint8Array(0) });
  Object.defineProperty(liar, "slice", { value: () => new Uint8Array(0) });
  assert.deepEqual(hmac("SHA-256", key, liar), honest);
  // Params read once: a getter that answers differently each time.
  let reads = 0;
  const params = {
    get length() {
      reads++;
      return reads === 1 ? 16 : 100_000;
    },
  };
  using okm = hkdf("SHA-256", key, params as Any);
  assert.equal(okm.size, 16);
  assert.equal(reads, 1, "length read once");
  // A getter that throws, and a Proxy whose traps throw.
  const throwing = {
    get length(): number {
      throw new Error("boom");
    },
  };
  nothingMapped("throwing getter", () => {
    assertThrowsCode(
      () => hkdf("SHA-256", key, throwing as Any),
      "INVALID_ARGUMENT",
    );
  });
  const trap = new Proxy({}, {
    ownKeys: () => {
      throw new Error("trap");
    },
    get: () => {
      throw new Error("trap");
    },
  });
  nothingMapped("throwing proxy", () => {
    assertThrowsCode(() => encrypt(key, salt, trap as Any), "INVALID_ARGUMENT");
    assertThrowsCode(
      () => hkdf("SHA-256", key, trap as Any),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => hmac("SHA-256", key, trap as Any),
      "INVALID_ARGUMENT",
    );
  });
  // The same buffer as key and data, and a SharedArrayBuffer salt.
  assert.equal(hmac("SHA-512", key, key).length, 64);
  const shared = new Uint8Array(new SharedArrayBuffer(16));
  shared.set(salt);
  using a = hkdf("SHA-256", key, { salt: shared, length: 32 });
  using b = hkdf("SHA-256", key, { salt, length: 32 });
  assert(a.equals(b));
  // A resizable buffer's length is read once, when the call starts.
  const resizable = new Uint8Array(new ArrayBuffer(8, { maxByteLength: 64 }));
  assert.equal(encrypt(key, resizable).length, 48);
});

test("buffer options: checked before anything is mapped, passed through as given", async () => {
  using key = SecretBuffer.random(32);
  const message = encrypt(key, salt);
  const before = stats();
  for (const options of [5, "x", { lock: "sometimes" }, { colour: "red" }]) {
    assertThrowsCode(
      () => hkdf("SHA-256", key, { length: 8 }, options as Any),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => decrypt(key, message, {}, options as Any),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => scryptSync(key, scryptParams, options as Any),
      "INVALID_ARGUMENT",
    );
    await assertRejectsCode(
      () => scrypt(key, scryptParams, options as Any),
      "INVALID_ARGUMENT",
    );
  }
  assert.deepEqual(stats(), before, "nothing left mapped");
  using start = hkdf("SHA-256", key, { length: 8 }, { placement: "start" });
  assert.equal(start.address % 4096n, 0n, "placement honoured");
});

test("purge() during an asynchronous scrypt: it rejects with DESTROYED, nothing stays mapped", () => {
  const result = runChild(childScript("crypto_purge.ts"));
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split("\n").pop()!);
  assert.equal(report.destroyed, 3, "passphrase, V, and B");
  assert.equal(report.outcome, "DESTROYED");
  assert.equal(report.live, 0);
});

test("contexts: bad hash, keys and options are INVALID_ARGUMENT or DESTROYED, nothing mapped", () => {
  using key = SecretBuffer.random(32);
  using short = SecretBuffer.random(15);
  const gone = SecretBuffer.random(32);
  gone.destroy();
  nothingMapped("bad context arguments", () => {
    for (const hash of ["sha256", "SHA-1", undefined, 256]) {
      assertThrowsCode(() => hmacKey(hash as Any, key), "INVALID_ARGUMENT");
    }
    for (const k of [null, bytes(32), "key", proxied(bytes(32))]) {
      assertThrowsCode(() => hmacKey("SHA-256", k as Any), "INVALID_ARGUMENT");
      assertThrowsCode(() => aeadKey(k as Any), "INVALID_ARGUMENT");
    }
    assertThrowsCode(() => hmacKey("SHA-256", gone), "DESTROYED");
    assertThrowsCode(() => aeadKey(gone), "DESTROYED");
    // Short HMAC keys only on request, and the request is a boolean.
    assertThrowsCode(() => hmacKey("SHA-256", short), "INVALID_ARGUMENT");
    assertThrowsCode(() => hmac("SHA-256", short, salt), "INVALID_ARGUMENT");
    assertThrowsCode(
      () => hmacVerify("SHA-256", short, salt, bytes(32)),
      "INVALID_ARGUMENT",
    );
    for (const allowShortKey of [1, "yes", null]) {
      assertThrowsCode(
        () => hmacKey("SHA-256", short, { allowShortKey } as Any),
        "INVALID_ARGUMENT",
      );
    }
    assertThrowsCode(() => aeadKey(short), "INVALID_ARGUMENT");
    for (
      const options of [
        { rest: "readonly" },
        { lock: "maybe" },
        { allowShortKey: true },
        { rests: "noaccess" },
        "readwrite",
      ]
    ) {
      assertThrowsCode(() => aeadKey(key, options as Any), "INVALID_ARGUMENT");
    }
    assertThrowsCode(
      () => hmacKey("SHA-256", key, { rest: "open" } as Any),
      "INVALID_ARGUMENT",
    );
  });
  using allowed = hmacKey("SHA-256", short, { allowShortKey: true });
  assert.deepEqual(
    allowed.mac(salt),
    hmac("SHA-256", short, salt, { allowShortKey: true }),
  );
});

test("contexts: destroyed, disposed or purged, every method is DESTROYED", () => {
  using key = SecretBuffer.random(32);
  const mac = hmacKey("SHA-256", key);
  const aead = aeadKey(key);
  const message = aead.encrypt(salt);
  mac.destroy();
  aead.destroy();
  mac.destroy(); // twice is harmless
  aead.destroy();
  assert(mac.destroyed && aead.destroyed);
  assertThrowsCode(() => mac.mac(salt), "DESTROYED");
  assertThrowsCode(() => mac.verify(salt, bytes(32)), "DESTROYED");
  assertThrowsCode(() => aead.encrypt(salt), "DESTROYED");
  assertThrowsCode(() => aead.decrypt(message), "DESTROYED");
  let escaped: { mac(d: Uint8Array): Uint8Array } | undefined;
  {
    using scoped = hmacKey("SHA-512", key);
    escaped = scoped;
    assert.equal(scoped.mac(salt).length, 64);
  }
  assertThrowsCode(() => escaped!.mac(salt), "DESTROYED");
  // purge() reaches contexts, in either rest.
  const live = [
    hmacKey("SHA-256", key),
    hmacKey("SHA-256", key, { rest: "readwrite" }),
  ];
  const sealing = aeadKey(key, { rest: "readwrite" });
  purge();
  for (const context of live) {
    assert(context.destroyed);
    assertThrowsCode(() => context.mac(salt), "DESTROYED");
  }
  assertThrowsCode(() => sealing.encrypt(salt), "DESTROYED");
  // ...and the one-shots still work after it (their work area comes back).
  using again = SecretBuffer.random(32);
  assert.equal(hmac("SHA-256", again, salt).length, 32);
  assert.equal(String(live[0]), "HmacKey(SHA-256, destroyed)");
  assert.equal(
    JSON.stringify(sealing),
    '"AeadKey(XChaCha20-Poly1305, destroyed)"',
  );
});

test("contexts: lying values never change what is read; Proxies and detached bytes are refused", () => {
  using key = SecretBuffer.random(32);
  using mac = hmacKey("SHA-256", key);
  using aead = aeadKey(key);
  const data = bytes(40);
  const honest = mac.mac(data);
  const liar = data.slice();
  Object.defineProperty(liar, "length", { get: () => 3 });
  Object.defineProperty(liar, "subarray", { value: () => new Uint8Array(0) });
  assert.deepEqual(mac.mac(liar), honest);
  const lyingTag = honest.slice();
  Object.defineProperty(lyingTag, "length", { get: () => 1 });
  assert(mac.verify(data, lyingTag), "the whole tag is compared");
  const wrongTail = honest.slice();
  wrongTail[31] ^= 1;
  Object.defineProperty(wrongTail, "length", { get: () => 1 });
  assert(!mac.verify(data, wrongTail), "a lying length hides no byte");
  for (const bad of [...notBytes(), detached()]) {
    assertThrowsCode(() => mac.mac(bad as Any), "INVALID_ARGUMENT");
    assertThrowsCode(() => mac.verify(data, bad as Any), "INVALID_ARGUMENT");
    assertThrowsCode(() => aead.encrypt(bad as Any), "INVALID_ARGUMENT");
    assertThrowsCode(() => aead.decrypt(bad as Any), "INVALID_ARGUMENT");
    assertThrowsCode(
      () => aead.encrypt(data, { aad: bad } as Any),
      "INVALID_ARGUMENT",
    );
  }
  const message = aead.encrypt(data, { aad: salt });
  nothingMapped("a modified message through a context", () => {
    const modified = message.slice();
    modified[30] ^= 1;
    assertThrowsCode(() => aead.decrypt(modified, { aad: salt }), "INTEGRITY");
    assertThrowsCode(() => aead.decrypt(message), "INTEGRITY");
    assertThrowsCode(
      () => aead.decrypt(message.subarray(0, 39)),
      "INVALID_ARGUMENT",
    );
  });
  using back = aead.decrypt(message, { aad: salt });
  assert(back.equals(data));
});

test("reentrancy: getters that call back into the entry, and calls nested in a running one, never corrupt it", () => {
  using key = SecretBuffer.random(32);
  using other = SecretBuffer.random(32);
  using mac = hmacKey("SHA-256", key, { rest: "readwrite" });
  using aead = aeadKey(key);
  const data = bytes(100);
  const honest = mac.mac(data);
  const innerHonest = hmac("SHA-512", other, data);
  // A params getter that runs the whole entry while the outer call is on.
  let inner: Uint8Array | undefined;
  const params = {
    get aad() {
      inner = hmac("SHA-512", other, data);
      assert.deepEqual(mac.mac(data), honest);
      using roundTrip = aead.decrypt(aead.encrypt(data));
      assert(roundTrip.equals(data));
      return salt;
    },
  };
  const message = aead.encrypt(data, params);
  assert.deepEqual(inner, innerHonest);
  using back = aead.decrypt(message, params);
  assert(back.equals(data));
  // Library calls nested inside a running one take the next work area: the
  // outer area's bytes are untouched, and each answer is right.
  withArea((outer) => {
    outer.bytes.fill(0xa5);
    assert.deepEqual(mac.mac(data), honest);
    assert.deepEqual(hmac("SHA-512", other, data), innerHonest);
    assert(hmacVerify("SHA-256", key, data, honest));
    withArea((middle) => {
      middle.bytes.fill(0x5a);
      assert.deepEqual(mac.mac(data), honest);
      assert(middle.bytes.every((b) => b === 0x5a));
    });
    assert.equal(outer.bytes.length, AREA_SIZE);
    assert(outer.bytes.every((b) => b === 0xa5), "outer area intact");
  });
  // Wiped after every call, on every path.
  let seen: Uint8Array | undefined;
  withArea((area) => {
    seen = area.bytes;
    assert(area.bytes.every((b) => b === 0), "an area starts zeroed");
    area.bytes.fill(1);
  });
  assert(seen!.every((b) => b === 0), "and is wiped after");
  assert.throws(() =>
    withArea((area) => {
      area.bytes.fill(2);
      throw new Error("fails mid-call");
    })
  );
  assert(seen!.every((b) => b === 0), "also when the call throws");
  // purge() while a call runs: the call fails, it does not answer.
  assertThrowsCode(() => withArea(() => void purge()), "DESTROYED");
  using fresh = SecretBuffer.random(32);
  assert.equal(hmac("SHA-256", fresh, data).length, 32);
});
