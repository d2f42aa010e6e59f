/**
 * Adversarial suite, class 2: values that lie about themselves. Lengths
 * come from the engine's own getters, read once; brands from private
 * fields; thenables are read once; every scope closes on every path.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  hardenProcess,
  purge,
  SecretBuffer,
  SecretPool,
  SecretSlot,
  stats,
  timingSafeEqual,
} from "../mod.ts";
import { Enclave } from "../enclave.ts";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

function lyingLength(bytes: number[], length: number): Uint8Array {
  const view = new Uint8Array(bytes);
  Object.defineProperty(view, "length", { value: length });
  return view;
}

const trapAll = new Proxy({}, {
  get() {
    throw new Error("a trap ran");
  },
  getPrototypeOf() {
    throw new Error("a trap ran");
  },
  has() {
    throw new Error("a trap ran");
  },
  ownKeys() {
    throw new Error("a trap ran");
  },
});

test("an own length property never sizes a copy or a comparison", () => {
  const source = lyingLength([1, 2, 3], 100_000);
  using copy = SecretBuffer.from(source, { wipeSource: false });
  assert.equal(copy.size, 3);
  const pool = new SecretPool();
  const slot = pool.from(lyingLength([1, 2, 3], 2000), { wipeSource: false });
  assert.equal(slot.size, 3);
  // Four bytes that claim to be three must not equal three bytes.
  const longer = lyingLength([1, 2, 3, 4], 3);
  assert.equal(copy.equals(longer), false);
  assert.equal(slot.equals(longer), false);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), longer), false);
  const shorter = lyingLength([1, 2], 3);
  assert.equal(copy.equals(shorter), false);
  pool.destroy();
});

test("a Proxy, a look-alike or another typed array is refused as bytes", () => {
  const fakes: unknown[] = [
    new Proxy(new Uint8Array([1, 2, 3]), {}),
    Object.create(Uint8Array.prototype),
    new Uint8ClampedArray(3),
    new Int8Array(3),
    [1, 2, 3],
    { length: 3, 0: 1, 1: 2, 2: 3 },
    trapAll,
  ];
  using a = SecretBuffer.alloc(3);
  const pool = new SecretPool();
  using slot = pool.alloc(3);
  for (const fake of fakes) {
    const live = stats().liveBuffers;
    assertThrowsCode(
      () => SecretBuffer.from(fake as Uint8Array),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(() => pool.from(fake as Uint8Array), "INVALID_ARGUMENT");
    assertThrowsCode(() => a.equals(fake as Uint8Array), "INVALID_ARGUMENT");
    assertThrowsCode(() => slot.equals(fake as Uint8Array), "INVALID_ARGUMENT");
    assertThrowsCode(
      () => timingSafeEqual(fake as Uint8Array, new Uint8Array(3)),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => a.copyTo(fake as SecretBuffer),
      "INVALID_ARGUMENT",
    );
    assert.equal(stats().liveBuffers, live);
  }
  pool.destroy();
});

test("brand claims by tag, prototype or Proxy never pass for a secret", () => {
  using real = SecretBuffer.fromHex("0102");
  const claims: unknown[] = [
    {
      [Symbol.toStringTag]: "SecretBuffer",
      size: 2,
      read: (f: (b: Uint8Array) => unknown) => f(new Uint8Array([1, 2])),
    },
    {
      [Symbol.toStringTag]: "SecretSlot",
      size: 2,
      read: (f: (b: Uint8Array) => unknown) => f(new Uint8Array([1, 2])),
    },
    Object.create(SecretBuffer.prototype),
    new Proxy(real, {}),
    trapAll,
  ];
  for (const claim of claims) {
    assertThrowsCode(
      () => real.equals(claim as SecretBuffer),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => real.copyTo(claim as SecretBuffer),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => SecretBuffer.from(claim as SecretBuffer),
      "INVALID_ARGUMENT",
    );
  }
});

test("detached, resizable and shared sources are measured by the engine", () => {
  const detached = new Uint8Array([1, 2, 3]);
  (detached.buffer as ArrayBuffer).transfer();
  using empty = SecretBuffer.from(detached);
  assert.equal(empty.size, 0);
  const resizable = new ArrayBuffer(4, { maxByteLength: 16 });
  const tracking = new Uint8Array(resizable);
  tracking.set([1, 2, 3, 4]);
  resizable.resize(2);
  using shrunk = SecretBuffer.from(tracking);
  assert.equal(shrunk.size, 2);
  const shared = new Uint8Array(new SharedArrayBuffer(3));
  shared.set([4, 5, 6]);
  using fromShared = SecretBuffer.from(shared);
  assert(fromShared.equals(new Uint8Array([4, 5, 6])));
  assert.deepEqual([...shared], [0, 0, 0], "the shared source was not wiped");
});

test("a thenable's then is read once, and a throwing getter closes the scope", async () => {
  using a = SecretBuffer.alloc(4);
  const boom = new Error("then getter");
  assert.throws(() =>
    a.read(() => ({
      get then() {
        throw boom;
      },
    })), (e) => e === boom);
  assert.equal(a.state, "noaccess");
  let reads = 0;
  // Answers a resolving then the first time only: a scope that read it
  // twice would wait for ever.
  const counting = () => {
    let first = true;
    return {
      get then() {
        reads++;
        const answer = first
          ? (resolve: (v: number) => void) => resolve(7)
          : () => {};
        first = false;
        return answer;
      },
    };
  };
  const result = await (a.read(() => counting()) as unknown as Promise<number>);
  assert.equal(result, 7);
  assert.equal(reads, 1);
  assert.equal(a.state, "noaccess");
  const rejecting = {
    then: (_: unknown, reject: (e: Error) => void) => reject(boom),
  };
  await assert.rejects(
    a.write(() => rejecting) as unknown as Promise<unknown>,
    (e) => e === boom,
  );
  assert.equal(a.state, "noaccess");
  const throwing = {
    then() {
      throw boom;
    },
  };
  await assert.rejects(
    a.read(() => throwing) as unknown as Promise<unknown>,
    (e) => e === boom,
  );
  assert.equal(a.state, "noaccess");
  const pool = new SecretPool();
  const slot = pool.alloc(4);
  assert.throws(() =>
    slot.read(() => ({
      get then() {
        throw boom;
      },
    })), (e) => e === boom);
  assert.equal(slot.state, "noaccess");
  assert.equal(
    await (slot.read(() => counting()) as unknown as Promise<number>),
    7,
  );
  assert.equal(slot.state, "noaccess");
  pool.destroy();
});

test("scopes close on every path, re-entrant calls included", async () => {
  const a = SecretBuffer.alloc(4);
  assert.throws(() =>
    a.read(() => {
      throw new Error("x");
    })
  );
  assert.equal(a.state, "noaccess");
  assertThrowsCode(() => a.read(() => a.write(() => 0)), "ACCESS_DENIED");
  assert.equal(a.state, "noaccess");
  a.read(() => a.read(() => a.read(() => 0)));
  assert.equal(a.state, "noaccess");
  await a.write(async () => {
    await Promise.resolve();
    purge();
  });
  assert.equal(a.state, "destroyed");
  const b = SecretBuffer.alloc(4);
  b.read(() => b.destroy());
  assert.equal(b.state, "destroyed");
  const c = SecretBuffer.alloc(4);
  await assert.rejects(c.read(async () => {
    await Promise.resolve();
    throw new Error("late");
  }));
  assert.equal(c.state, "noaccess");
  c.destroy();
});

test("file objects and streams that lie are refused with typed errors", async () => {
  const live = stats().liveBuffers;
  const lies: unknown[] = [
    trapAll,
    { read: "no", write: "no" },
    { fd: -1 },
    { fd: 1.5 },
    {
      get fd() {
        throw new Error("fd getter");
      },
    },
  ];
  for (const lie of lies) {
    await assertRejectsCode(
      () => SecretBuffer.fromFd(lie as number),
      "INVALID_ARGUMENT",
    );
  }
  await assertRejectsCode(
    () => SecretBuffer.fromStream(trapAll as ReadableStream),
    "INVALID_ARGUMENT",
  );
  await assertRejectsCode(
    () =>
      SecretBuffer.fromStream((async function* () {
        yield new Proxy(new Uint8Array(2), {});
      })()),
    "INVALID_ARGUMENT",
  );
  // A chunk that claims 70,000 bytes holds one: it is one byte, not
  // TOO_LARGE and not a read past its end.
  const one = await SecretBuffer.fromStream(
    (async function* () {
      yield lyingLength([1], 70_000);
    })(),
    { maxSize: 16 },
  );
  assert.equal(one.size, 1);
  one.destroy();
  assert.equal(stats().liveBuffers, live);
});

test(
  "frozen intrinsics: every entry point works without writing to one",
  () => {
    const frozen = runChild(childScript("hostile.ts"), ["frozen"]);
    assert.equal(frozen.status, 0, frozen.stdout + frozen.stderr);
    assert(frozen.stdout.includes("equal true true true true"), frozen.stdout);
    assert(frozen.stdout.includes("live 0"), frozen.stdout);
    assert(frozen.stdout.includes("typed INVALID_SIZE"), frozen.stdout);
    if (runtime !== "node") return;
    // Node's own switch freezes every intrinsic before any code runs.
    const [exe, ...rest] = runtimeCommand(childScript("hostile.ts"), [
      "frozen",
      "flag",
    ]);
    const flagged = runChild(childScript("hostile.ts"), [], {
      commandOverride: [exe, "--frozen-intrinsics", ...rest],
    });
    assert.equal(flagged.status, 0, flagged.stdout + flagged.stderr);
    assert(
      flagged.stdout.includes("equal true true true true"),
      flagged.stdout,
    );
  },
  { skip: linuxOnly },
);

test("a secret's own properties cannot be shadowed to lie about its size", () => {
  const a = SecretBuffer.fromHex("0102");
  const pool = new SecretPool();
  const slot = pool.from(new Uint8Array([1, 2]));
  for (const target of [a, slot]) {
    assert.throws(() =>
      Object.defineProperty(target, "size", { value: 1_000_000 })
    );
    assert.throws(() =>
      Object.defineProperty(target, "read", { value: () => 0 })
    );
    assert.equal(target.size, 2);
  }
  using copy = SecretBuffer.from(a);
  assert.equal(copy.size, 2);
  assert(copy.equals(slot));
  a.destroy();
  pool.destroy();
});

test("a descriptor past a C int is refused, never cut to 32 bits", async () => {
  const before = stats().liveBuffers;
  for (const fd of [2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
    assertThrowsCode(() => SecretBuffer.fromFdSync(fd), "INVALID_ARGUMENT");
    await assertRejectsCode(
      () => SecretBuffer.fromFd({ fd }),
      "INVALID_ARGUMENT",
    );
    using secret = SecretBuffer.fromText("x");
    assertThrowsCode(() => secret.writeToSync(fd), "INVALID_ARGUMENT");
  }
  assert.equal(stats().liveBuffers, before);
});

test("hardenProcess reads skip by index: replaced methods and holes cannot lie", () => {
  // Every step skipped, so the test process is left as it was.
  const all = ["dumpable", "coreLimit", "crashDialog"];
  const lying = Object.assign([...all], { map: () => [], forEach() {} });
  const result = hardenProcess({ skip: lying as unknown as [] });
  for (const name of all) {
    assert.equal(
      (result.steps as Record<string, { status: string }>)[name].status,
      "skipped",
      name,
    );
  }
  assertThrowsCode(
    // deno-lint-ignore no-sparse-arrays
    () => hardenProcess({ skip: [, "coreLimit"] as unknown as [] }),
    "INVALID_ARGUMENT",
  );
});

test("secmem's classes and prototypes are frozen: code loaded later cannot replace a method the library calls", () => {
  // A read() replaced after import would be handed every key the Enclave,
  // the pool and the crypto entry open (found by an attacker review).
  const classes = { SecretBuffer, SecretPool, SecretSlot, Enclave };
  for (const [name, cls] of Object.entries(classes)) {
    assert(Object.isFrozen(cls), `${name} is frozen`);
    assert(Object.isFrozen(cls.prototype), `${name}.prototype is frozen`);
    assert.throws(() => {
      (cls.prototype as unknown as Record<string, unknown>).read = () => 0;
    }, TypeError);
  }
  using key = SecretBuffer.fromHex("0102");
  assert.equal(key.read((bytes) => bytes[1]), 2);
});

test("making a SecretMemoryError runs no getter on Object.prototype (errors are made inside scopes)", () => {
  let ran = 0;
  const keys = ["errno", "syscall", "cause"];
  for (const key of keys) {
    Object.defineProperty(Object.prototype, key, {
      configurable: true,
      get() {
        ran++;
        return undefined;
      },
    });
  }
  try {
    using a = SecretBuffer.fromHex("0102030405060708");
    const pool = new SecretPool();
    const slot = pool.from(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    slot.destroy();
    assertThrowsCode(() => a.equals(slot), "DESTROYED");
    assertThrowsCode(() => SecretBuffer.alloc(-1), "INVALID_SIZE");
    pool.destroy();
  } finally {
    for (const key of keys) {
      delete (Object.prototype as Record<string, unknown>)[key];
    }
  }
  assert.equal(ran, 0, "a getter on Object.prototype ran inside the library");
});

test("typed-array methods replaced after import never see the library's guarded views (Enclave, crypto)", async () => {
  const { encrypt, decrypt, hkdf, hmac } = await import("../crypto.ts");
  const plain = new Uint8Array(40).map((_, i) => (i * 29 + 5) & 0xff);
  const keyBytes = new Uint8Array(32).map((_, i) => (i * 41 + 3) & 0xff);
  // Made before the methods are replaced: the test's own copies are not
  // the library's.
  using key = SecretBuffer.from(keyBytes.slice());
  using message = SecretBuffer.from(plain.slice());
  const forEnclave = SecretBuffer.from(plain.slice());
  const caught: Uint8Array[] = [];
  const typed = Object.getPrototypeOf(Uint8Array.prototype);
  const saved = new Map<string, PropertyDescriptor>();
  const grab = (self: unknown) => {
    if (self instanceof Uint8Array) caught.push(Uint8Array.from(self));
  };
  for (const name of ["subarray", "fill", "copyWithin", "set", "slice"]) {
    saved.set(name, Object.getOwnPropertyDescriptor(typed, name)!);
    const original = saved.get(name)!.value as (...args: unknown[]) => unknown;
    Object.defineProperty(typed, name, {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...args: unknown[]) {
        grab(this);
        return Reflect.apply(original, this, args);
      },
    });
  }
  try {
    const sealed = encrypt(key, message);
    using opened = decrypt(key, sealed);
    assert(opened.equals(plain));
    hmac("SHA-256", key, new Uint8Array([1, 2, 3]));
    hkdf("SHA-256", key, { length: 32 }).destroy();
    using enclave = Enclave.seal(forEnclave);
    using back = enclave.open();
    assert(back.equals(plain));
  } finally {
    for (const [name, descriptor] of saved) {
      Object.defineProperty(typed, name, descriptor);
    }
  }
  const holds = (needle: Uint8Array) =>
    caught.some((copy) => {
      for (let at = 0; at + needle.length <= copy.length; at++) {
        let same = true;
        for (let i = 0; i < needle.length && same; i++) {
          same = copy[at + i] === needle[i];
        }
        if (same) return true;
      }
      return false;
    });
  assert(!holds(keyBytes), "a replaced method was handed the key");
  assert(
    !holds(plain.subarray(0, 16)),
    "a replaced method was handed the plaintext",
  );
});
