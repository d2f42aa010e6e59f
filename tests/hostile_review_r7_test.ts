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
import { createHash } from "node:crypto";
import { purge, SecretBuffer, SecretMemoryError, stats } from "../mod.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { aeadKey, hkdf, hmac, scrypt, scryptSync } from "../crypto.ts";
import { Enclave } from "../enclave.ts";
import { isOwnBuffer } from "../src/core/_intrinsics.ts";
import { Ed25519Key, X25519Key } from "../keys.ts";
import { connectAgent, startAgent } from "../agent.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { definedWhile, replacedWhile } from "./_replaced.ts";
import { Keyring } from "../src/agent/_keys.ts";
import { childScript, runChild } from "./_child.ts";

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const accessor = (key: string) =>
  Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!;
const realBuffer = accessor("buffer").get!;
const realOffset = accessor("byteOffset").get!;
const realLength = accessor("length").get!;
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

// --- The agent: its keyring, its frames, the client's replies ----------

/** Whether `view` holds `needle` anywhere (read by index, no methods). */
function holds(view: unknown, needle: Uint8Array): boolean {
  if (!(view instanceof Uint8Array)) return false;
  const length = Reflect.apply(realLength, view, []) as number;
  for (let at = 0; at + needle.length <= length; at++) {
    let same = true;
    for (let i = 0; i < needle.length && same; i++) {
      same = view[at + i] === needle[i];
    }
    if (same) return true;
  }
  return false;
}

/** The library's own source, as a stack frame names it. */
const LIBRARY = /[\\/]src[\\/](agent|crypto|keys|enclave)[\\/]/;

/**
 * `fn()` with `names` on %TypedArray%.prototype replaced by functions
 * that do the same and note whether a call from the library's own code
 * (not the runtime's) handed them bytes holding one of `needles`. Put
 * back when `fn` settles, whatever it does.
 */
async function watchedMethods(
  names: readonly string[],
  needles: readonly Uint8Array[],
  fn: () => Promise<void>,
): Promise<string[]> {
  const seen: string[] = [];
  const saved: [string, PropertyDescriptor][] = [];
  try {
    for (const name of names) {
      const descriptor = Object.getOwnPropertyDescriptor(
        TypedArrayPrototype,
        name,
      )!;
      saved.push([name, descriptor]);
      const original = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(TypedArrayPrototype, name, {
        ...descriptor,
        value: function (this: unknown, ...args: unknown[]) {
          const caller = new Error().stack?.split("\n")[2] ?? "";
          if (
            LIBRARY.test(caller) &&
            needles.some((n) => holds(this, n) || args.some((a) => holds(a, n)))
          ) {
            seen.push(`${name} from ${caller.trim()}`);
          }
          return Reflect.apply(original, this, args);
        },
      });
    }
    await fn();
  } finally {
    for (const [name, descriptor] of saved) {
      Object.defineProperty(TypedArrayPrototype, name, descriptor);
    }
  }
  return seen;
}

// RFC 8032's test 1 key as ssh-keygen writes it (the README's example).
const RFC8032_KEY_FILE = "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
  "QyNTUxOQAAACDXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGgAAAJABAgMEAQID\n" +
  "BAAAAAtzc2gtZWQyNTUxOQAAACDXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg\n" +
  "AAAECdYbGd7/1aYLqESvSS7CzEREnFaXsyaRlwO6wDHK5/YNdamAGCsQq31Uv+08lkBzoO\n" +
  "4XLz2qYjJa8CGmj3B1EaAAAACXRlc3RAaG9zdAECAwQ=\n" +
  "-----END OPENSSH PRIVATE KEY-----\n";
const AGE_IDENTITY =
  "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n";
const seed = new Uint8Array([
  0x9d,
  0x61,
  0xb1,
  0x9d,
  0xef,
  0xfd,
  0x5a,
  0x60,
  0xba,
  0x84,
  0x4a,
  0xf4,
]);

const pattern = (length: number, first: number) =>
  new Uint8Array(length).map((_, i) => (first + 29 * i) & 0xff);

test(
  "TypedArray subarray/set/fill/slice replaced: the agent and its client hand them no secret (a key added, a secret added, a plaintext decrypted)",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      const secret = pattern(32, 0x31);
      const plaintext = pattern(40, 0x77);
      const sealed = await (async () => {
        await client.addSecret("r7", secret.slice());
        return await client.encrypt("r7", plaintext.slice());
      })();
      const file = new TextEncoder().encode(RFC8032_KEY_FILE);
      const needles = [secret.subarray(0, 12), plaintext.subarray(0, 12), seed];
      let opened: Uint8Array | undefined;
      const seen = await watchedMethods(
        ["subarray", "set", "fill", "slice"],
        needles,
        async () => {
          await client.addSecret("r7-again", secret.slice());
          await client.add(file.slice());
          opened = await client.decrypt("r7", sealed);
        },
      );
      assert.deepEqual(seen, [], "a replaced method was handed a secret");
      assert.deepEqual(opened, plaintext, "the plaintext came back");
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "Map.prototype.set/get replaced: the agent's keyring hands them no held key or secret",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    const caught: unknown[] = [];
    const { get, set } = Map.prototype;
    try {
      const secret = pattern(32, 0x13);
      Map.prototype.set = function (this: Map<unknown, unknown>, k, v) {
        caught.push(v);
        return Reflect.apply(set, this, [k, v]);
      };
      Map.prototype.get = function (this: Map<unknown, unknown>, k) {
        const v = Reflect.apply(get, this, [k]);
        caught.push(v);
        return v;
      };
      try {
        await client.addSecret("held", secret.slice());
        await client.generateKey("held key");
        await client.encrypt("held", new Uint8Array(3));
      } finally {
        Map.prototype.set = set;
        Map.prototype.get = get;
      }
      const reached = caught.filter((v) =>
        typeof v === "object" && v !== null && "key" in v &&
        (v.key instanceof SecretBuffer || v.key instanceof Ed25519Key)
      );
      const stolen = reached.map((v) => (v as { key: unknown }).key)
        .filter((k): k is SecretBuffer => k instanceof SecretBuffer)
        .some((k) => k.read((b) => b.every((x, i) => x === secret[i])));
      assert.equal(stolen, false, "the replacement read the agent's secret");
      assert.equal(reached.length, 0, "the replacement was handed held keys");
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

// --- The `length` getter: handed views over the library's memory -------

/**
 * `fn()` with %TypedArray%.prototype's `length` getter replaced by one that
 * answers truly but, each time it is asked about a view over memory the
 * library mapped, copies that view's whole ArrayBuffer (the real getter,
 * saved before, gives it the buffer). Returns whether a copy held
 * `needle`: the secret the library had in that memory at the time.
 */
function seenThroughLength(needle: Uint8Array, fn: () => void): boolean {
  let seen = false;
  gettersReplacedWhile({
    length(this: unknown) {
      const buffer = Reflect.apply(realBuffer, this, []) as ArrayBuffer;
      const library = isOwnBuffer(buffer) ||
        (Reflect.apply(realByteLength, buffer, []) as number) >= 2048;
      if (!seen && library) {
        seen ||= holds(new Uint8Array(buffer).slice(), needle);
      }
      return Reflect.apply(realLength, this, []);
    },
  }, fn);
  return seen;
}

test("TypedArray length getter replaced: HMAC, HKDF, Ed25519 sign and Enclave.seal hand it no view over memory holding their secrets", () => {
  const key = pattern(32, 0x5a);
  const ipad = key.map((b) => b ^ 0x36);
  using secret = SecretBuffer.from(key.slice());
  assert.equal(
    seenThroughLength(ipad, () => hmac("SHA-256", secret, new Uint8Array(5))),
    false,
    "hmac: the key XOR ipad was readable",
  );
  using okm = hkdf("SHA-256", secret, { length: 64 });
  const first = okm.read((b) => b.slice(0, 32));
  assert.equal(
    seenThroughLength(first, () => {
      hkdf("SHA-256", secret, { length: 64 }).destroy();
    }),
    false,
    "hkdf: the output's first block was readable",
  );
  using signer = Ed25519Key.fromSeed(SecretBuffer.from(key.slice()));
  assert.equal(
    seenThroughLength(key, () => signer.sign(new Uint8Array(3))),
    false,
    "Ed25519 sign: the seed was readable",
  );
  const plain = pattern(40, 0x21);
  assert.equal(
    seenThroughLength(plain, () => {
      Enclave.seal(SecretBuffer.from(plain.slice())).destroy();
    }),
    false,
    "Enclave.seal: the plaintext was readable",
  );
});

// --- Math.imul: the field and scalar arithmetic ------------------------

test("Math.imul replaced: Ed25519 sign hands it no limb of the secret scalar, and X25519 agree no product at all", () => {
  const seed = pattern(32, 0x3c);
  // The secret scalar a: SHA-512 of the seed, first half, clamped; its
  // radix-2^12 limbs are what a signer multiplies by.
  const a = createHash("sha512").update(seed).digest().subarray(0, 32);
  a[0] &= 248;
  a[31] &= 127;
  a[31] |= 64;
  let big = 0n;
  for (let i = 31; i >= 0; i--) big = big << 8n | BigInt(a[i]);
  const limbs = Array.from(
    { length: 22 },
    (_, j) => Number(big >> BigInt(12 * j) & 0xfffn),
  );
  using signer = Ed25519Key.fromSeed(SecretBuffer.from(seed.slice()));
  using mine = X25519Key.generate();
  using theirs = X25519Key.generate();
  const message = new Uint8Array([4, 5, 6]);
  const expected = signer.sign(message);
  using sharedBefore = mine.agree(theirs.publicKey);
  const imul = Math.imul;
  const handed = new Set<number>();
  let calls = 0;
  const outcome = replacedWhile(Math, "imul", (x: number, y: number) => {
    calls++;
    handed.add(x);
    handed.add(y);
    return imul(x, y);
  }, () => {
    const signature = signer.sign(message);
    const shared = mine.agree(theirs.publicKey);
    try {
      return { signature, same: shared.equals(sharedBefore) };
    } finally {
      shared.destroy();
    }
  });
  const seen = limbs.filter((limb) => handed.has(limb)).length;
  assert.ok(seen < limbs.length, "every limb of the secret scalar was handed");
  assert.equal(calls, 0, "the replacement was called by the key arithmetic");
  assert.deepEqual(outcome.signature, expected, "the signature is unchanged");
  assert.ok(outcome.same, "the shared secret is unchanged");
});

// --- Key files: OpenSSH and age identities -----------------------------

/** Whether `fn` asks a `length` getter about a view over guarded memory. */
function guardedViewAskedLength(fn: () => void): boolean {
  let asked = false;
  gettersReplacedWhile({
    length(this: unknown) {
      asked ||= isOwnBuffer(Reflect.apply(realBuffer, this, []) as ArrayBuffer);
      return Reflect.apply(realLength, this, []);
    },
  }, fn);
  return asked;
}

test("TypedArray length getter and slice replaced: reading an OpenSSH key file or an age identity hands them neither the file nor the key", async () => {
  assert.equal(
    guardedViewAskedLength(() =>
      Ed25519Key.fromOpenSSH(SecretBuffer.fromText(RFC8032_KEY_FILE)).destroy()
    ),
    false,
    "fromOpenSSH: the length getter was handed the guarded key file",
  );
  assert.equal(
    guardedViewAskedLength(() =>
      X25519Key.fromAgeIdentity(SecretBuffer.fromText(AGE_IDENTITY)).destroy()
    ),
    false,
    "fromAgeIdentity: the length getter was handed the guarded key",
  );
  const seen = await watchedMethods(["slice", "subarray"], [seed], () => {
    Ed25519Key.fromOpenSSH(SecretBuffer.fromText(RFC8032_KEY_FILE)).destroy();
    return Promise.resolve();
  });
  assert.deepEqual(seen, [], "a replaced method was handed the seed");
});

test(
  "Array iterator replaced: the agent's keyring walks its keys without it (expiry, listing)",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    const iterator = Object.getPrototypeOf([][Symbol.iterator]()) as {
      next: (this: Iterator<unknown>) => IteratorResult<unknown>;
    };
    const next = iterator.next;
    const caught: unknown[] = [];
    try {
      await client.addSecret("walked", pattern(32, 0x44));
      agent.generateKey("walked key");
      // Every request looks the keyring over for expired entries first.
      iterator.next = function (this: Iterator<unknown>) {
        const step = Reflect.apply(next, this, []) as IteratorResult<unknown>;
        caught.push(step.value);
        return step;
      };
      try {
        await client.encrypt("walked", new Uint8Array(1));
        await client.list();
      } finally {
        iterator.next = next;
      }
      const held = caught.flat().filter((v) =>
        typeof v === "object" && v !== null && "key" in v
      );
      assert.deepEqual(held, [], "the replacement was handed held keys");
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test("a setter planted on Array.prototype[0]: the agent's keyring hands it no held key or secret (its walks append as own elements)", () => {
  const keyring = new Keyring();
  try {
    keyring.addKey(SecretBuffer.random(32), "walked key", 0);
    keyring.addSecret("walked", SecretBuffer.random(32), 0);
    // Its own element 0 already: pushing to it never reaches the setter.
    const caught: unknown[] = [null];
    let listed = 0;
    definedWhile(Array.prototype, "0", {
      set(value: unknown) {
        caught.push(value);
      },
    }, () => {
      keyring.expire();
      listed = keyring.keys().length + keyring.secrets().length;
    });
    const held = caught.flat().filter((v) =>
      typeof v === "object" && v !== null &&
      ("key" in v || v instanceof SecretBuffer)
    );
    assert.deepEqual(held, [], "the setter was handed held keys");
    assert.equal(listed, 2);
  } finally {
    keyring.clear();
  }
});

test("a setter planted on Array.prototype[0] before the first HMAC is handed no crypto work area", () => {
  const child = runChild(childScript("first_crypto_setter.ts"), []);
  const detail = `status ${child.status}: ${child.stdout}${child.stderr}`;
  assert.equal(child.status, 0, detail);
  assert.equal(child.stdout.trim(), "handed 0", detail);
});

test("a setter planted on Array.prototype[0]: ageDecrypt hands it none of the caller's identities", () => {
  using mine = X25519Key.generate();
  const plain = pattern(16, 0x46);
  const file = ageEncrypt(plain, { recipients: [mine.ageRecipient] });
  // Its own element 0 already: pushing to it never reaches the setter.
  const handed: unknown[] = [null];
  const opened = definedWhile(Array.prototype, "0", {
    set(value: unknown) {
      handed.push(value);
    },
  }, () => {
    using back = ageDecrypt(file, { identities: [mine] });
    return back.read((bytes) => bytes.slice());
  });
  assert.deepEqual(opened, plain);
  assert.equal(handed.filter((value) => value === mine).length, 0);
});

test(
  "a setter planted on Array.prototype[0] while a request is queued: the client hands it no pending reply (a plaintext)",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.addSecret("queued", pattern(32, 0x47));
      const sealed = await client.encrypt("queued", pattern(16, 0x48));
      const seen: unknown[] = [];
      // Only while the request is made; every element is still stored as
      // the array's own, so the runtime's own socket code keeps working.
      const reply = definedWhile(Array.prototype, "0", {
        set(this: unknown[], value: unknown) {
          const pending = value as { resolve?: (v: unknown) => void };
          if (typeof pending?.resolve === "function") {
            const resolve = pending.resolve;
            pending.resolve = (v: unknown) => {
              seen.push(v);
              resolve(v);
            };
          }
          Object.defineProperty(this, "0", {
            value,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        },
      }, () => client.decrypt("queued", sealed));
      const plain = await reply;
      assert.deepEqual(plain, pattern(16, 0x48));
      assert.deepEqual(seen, [], "the setter was handed the pending reply");
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

// --- age: how much work a file can ask for ------------------------------

test("ageDecrypt refuses a file with more than 128 recipient stanzas before trying any identity on them; 128 still decrypt", () => {
  using mine = X25519Key.generate();
  const others = Array.from({ length: 127 }, () => X25519Key.generate());
  try {
    const plain = new Uint8Array([1, 2, 3]);
    const enough = ageEncrypt(plain, {
      recipients: [...others.map((k) => k.ageRecipient), mine.ageRecipient],
    });
    using back = ageDecrypt(enough, { identities: [mine] });
    assert.deepEqual(back.read((b) => b.slice()), plain);
    // One stanza more (the first one twice). The header MAC no longer
    // holds: without the cap checked first, the file would be refused
    // INTEGRITY after 129 agreements.
    const header = new TextDecoder().decode(enough.subarray(0, 512));
    const first = header.indexOf("-> X25519 ");
    const last = header.indexOf("-> X25519 ", first + 1);
    const stanza = enough.subarray(first, last);
    const tooMany = new Uint8Array(enough.length + stanza.length);
    tooMany.set(enough.subarray(0, first));
    tooMany.set(stanza, first);
    tooMany.set(enough.subarray(first), first + stanza.length);
    const before = stats();
    assert.throws(
      () => ageDecrypt(tooMany, { identities: [mine] }),
      (error: unknown) =>
        error instanceof SecretMemoryError &&
        error.code === "INVALID_ARGUMENT" &&
        /129 recipient stanzas/.test(error.message),
    );
    assert.deepEqual(stats(), before, "nothing left mapped");
  } finally {
    for (const key of others) key.destroy();
  }
});

test("ageEncrypt refuses more than 128 recipients, and a recipient list whose length lies, before reading any element", () => {
  using mine = X25519Key.generate();
  const recipient = mine.ageRecipient;
  const before = stats();
  assert.throws(
    () =>
      ageEncrypt(new Uint8Array(1), {
        recipients: Array.from({ length: 129 }, () => recipient),
      }),
    (error: unknown) =>
      error instanceof SecretMemoryError &&
      error.code === "INVALID_ARGUMENT" &&
      /129 given, at most 128/.test(error.message),
  );
  let reads = 0;
  const lying = new Proxy([recipient], {
    get(target, key, receiver) {
      if (key === "length") return 2 ** 32 - 1;
      if (typeof key === "string" && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  assert.throws(
    () => ageEncrypt(new Uint8Array(1), { recipients: lying }),
    (error: unknown) =>
      error instanceof SecretMemoryError &&
      error.code === "INVALID_ARGUMENT" &&
      /4294967295 given/.test(error.message),
  );
  assert.equal(reads, 0, "elements were read past the length check");
  assert.deepEqual(stats(), before, "nothing left mapped");
});

// --- Promises: the async scrypt ----------------------------------------

test("Promise.prototype.then replaced: async scrypt does not hand it the derived key", async () => {
  const then = Promise.prototype.then;
  const handed: unknown[] = [];
  using passphrase = SecretBuffer.from(new TextEncoder().encode("pass"));
  const params = {
    salt: new TextEncoder().encode("NaCl"),
    N: 16,
    r: 1,
    p: 1,
    length: 32,
  };
  using expected = scryptSync(passphrase, params);
  // Replaced for the synchronous part of the call only: what the library
  // chains there is what a replacement made after import is given.
  const pending = replacedWhile(
    Promise.prototype,
    "then",
    function (
      this: Promise<unknown>,
      onFulfilled?: (value: unknown) => unknown,
      onRejected?: (reason: unknown) => unknown,
    ) {
      const spy = typeof onFulfilled === "function"
        ? (value: unknown) => {
          const result = onFulfilled(value);
          handed.push(result);
          return result;
        }
        : onFulfilled;
      return Reflect.apply(then, this, [spy, onRejected]);
    },
    () => scrypt(passphrase, params),
  );
  using key = await pending;
  assert.ok(key.equals(expected), "the derived key is right");
  const stolen = handed.filter((v) => v instanceof SecretBuffer);
  assert.equal(stolen.length, 0, "the replacement was handed the derived key");
});

// --- Math.min: the cipher's block counts -------------------------------

test("Math.min replaced: encrypt and ageEncrypt still seal every byte (a decrypt gives the plaintext back)", () => {
  using secret = SecretBuffer.random(32);
  using key = aeadKey(secret);
  using mine = X25519Key.generate();
  const plain = pattern(150, 0x61);
  // One less than the true minimum (never 0, so no loop stalls): each
  // block would then leave a byte out.
  const oneLess = (a: number, b: number) => {
    const least = a < b ? a : b;
    return least > 1 ? least - 1 : least;
  };
  const [message, file] = replacedWhile(Math, "min", oneLess, () => [
    key.encrypt(plain),
    ageEncrypt(plain, { recipients: [mine.ageRecipient] }),
  ]);
  const opened = (() => {
    try {
      using back = key.decrypt(message);
      return back.read((b) => b.slice());
    } catch (error) {
      return error;
    }
  })();
  assert.deepEqual(
    opened,
    plain,
    "encrypt: the message opens to the plaintext",
  );
  const fromAge = (() => {
    try {
      using back = ageDecrypt(file, { identities: [mine] });
      return back.read((b) => b.slice());
    } catch (error) {
      return error;
    }
  })();
  assert.deepEqual(
    fromAge,
    plain,
    "ageEncrypt: the file opens to the plaintext",
  );
});

test("Array iterator replaced: ageDecrypt hands it none of the caller's identities (each could then agree with any share)", () => {
  using mine = X25519Key.generate();
  const file = ageEncrypt(new Uint8Array([7]), {
    recipients: [mine.ageRecipient],
  });
  const iterator = Object.getPrototypeOf([][Symbol.iterator]()) as object;
  const next = (iterator as { next: () => IteratorResult<unknown> }).next;
  const handed: unknown[] = [];
  using back = replacedWhile(
    iterator,
    "next",
    function (this: Iterator<unknown>) {
      const step = Reflect.apply(next, this, []) as IteratorResult<unknown>;
      handed.push(step.value);
      return step;
    },
    () => ageDecrypt(file, { identities: [mine] }),
  );
  assert.equal(back.size, 1);
  const keys = handed.filter((v) => v instanceof X25519Key);
  assert.equal(keys.length, 0, "the replacement was handed an identity");
});
