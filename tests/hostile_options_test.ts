/**
 * Adversarial suite, class 4: options honoured on every path that takes
 * them, or refused with INVALID_ARGUMENT. `backend: "secretmem"` on an
 * input gives secret-memory pages (or UNSUPPORTED_PLATFORM), never
 * anonymous pages quietly.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  closeSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  configure,
  hardenProcess,
  promptSecret,
  SecretBuffer,
  SecretMemoryError,
  SecretPool,
  stats,
} from "../mod.ts";
import { decrypt, encrypt, hkdf, scrypt, scryptSync } from "../crypto.ts";
import { Enclave } from "../enclave.ts";
import { findCopies } from "../forensics.ts";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

function secretMemoryWorks(): boolean {
  try {
    SecretBuffer.alloc(1, { backend: "secretmem" }).destroy();
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), "secmem-options-"));
const file = join(dir, "key");
writeFileSync(file, "0123456789");

/** A synchronous entry point's throw as a rejection, like the async ones. */
function later<T>(fn: () => T): Promise<T> {
  return Promise.resolve().then(fn);
}

type Input = (options: Record<string, unknown>) => Promise<SecretBuffer>;
const inputs: [string, Input][] = [
  ["fromFile", (o) => SecretBuffer.fromFile(file, o)],
  ["fromFileSync", (o) => later(() => SecretBuffer.fromFileSync(file, o))],
  ["fromFd", async (o) => {
    const fd = openSync(file, "r");
    try {
      return await SecretBuffer.fromFd(fd, o);
    } finally {
      closeSync(fd);
    }
  }],
  ["fromFdSync", (o) =>
    later(() => {
      const fd = openSync(file, "r");
      try {
        return SecretBuffer.fromFdSync(fd, o);
      } finally {
        closeSync(fd);
      }
    })],
  ["fromStream", (o) =>
    SecretBuffer.fromStream(
      (async function* () {
        yield new Uint8Array([1, 2, 3]);
      })(),
      o,
    )],
  ["fromStream (bytes)", (o) =>
    SecretBuffer.fromStream(
      new ReadableStream({
        type: "bytes",
        pull(controller) {
          (controller.byobRequest!.view as Uint8Array).set([1]);
          controller.byobRequest!.respond(1);
          controller.close();
        },
      }),
      o,
    )],
  ["fromHex", (o) => later(() => SecretBuffer.fromHex("0102", o))],
  ["fromText", (o) => later(() => SecretBuffer.fromText("pw", o))],
];

for (const [name, read] of inputs) {
  test(`${name} honours backend "secretmem" or refuses it`, async () => {
    if (secretMemoryWorks()) {
      const secret = await read({ backend: "secretmem" });
      assert.equal(secret.backend, "secretmem", `${name} gave anonymous pages`);
      secret.destroy();
    } else {
      await assertRejectsCode(
        () => read({ backend: "secretmem" }),
        "UNSUPPORTED_PLATFORM",
      );
    }
    const auto = await read({ backend: "auto" });
    assert.equal(auto.backend, secretMemoryWorks() ? "secretmem" : "anonymous");
    auto.destroy();
    const start = await read({ placement: "start" });
    assert.equal(start.address % 4096n, 0n, `${name} ignored placement`);
    start.destroy();
  }, { skip: linuxOnly });

  test(
    `${name} refuses a bad or misspelt option with INVALID_ARGUMENT`,
    async () => {
      const live = stats().liveBuffers;
      for (
        const options of [
          { backend: "bogus" },
          { lock: "sometimes" },
          { placement: "middle" },
          { backnd: "secretmem" },
        ]
      ) {
        await assertRejectsCode(() => read(options), "INVALID_ARGUMENT");
      }
      assert.equal(stats().liveBuffers, live);
    },
    { skip: linuxOnly },
  );
}

test("fromStdin and promptSecret check every option before reading", async () => {
  await assertRejectsCode(
    () => SecretBuffer.fromStdin({ backend: "bogus" } as never),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(
    () => SecretBuffer.fromStdinSync({ backend: "bogus" } as never),
    "INVALID_ARGUMENT",
  );
  await assertRejectsCode(
    () => promptSecret("x", { backend: "bogus" } as never),
    "INVALID_ARGUMENT",
  );
  await assertRejectsCode(
    () => promptSecret("x", { maxSize: 1.5 }),
    "INVALID_SIZE",
  );
});

// Options bags that lie: a getter or a Proxy trap that throws, a getter
// that answers differently when asked twice, a value that is no object.
// Every public entry that takes options (or a params bag) reads each one
// exactly once, and turns the caller's throw into INVALID_ARGUMENT with
// the original as `cause`, leaving nothing mapped, locked or open.

const boom = new Error("the caller's own error");
const scryptParams = { salt: new Uint8Array(8), N: 2, r: 1, p: 1, length: 16 };

/**
 * What the entries act on, made inside each test: every test file is
 * imported before any test runs, and buffers made at the top level would
 * be live in every other file's tests.
 */
interface Fixtures {
  key: SecretBuffer;
  message: Uint8Array;
  pool: SecretPool;
  enclave: Enclave;
}

function makeFixtures(): Fixtures {
  const key = SecretBuffer.random(32);
  return {
    key,
    message: encrypt(key, new Uint8Array([1, 2, 3])),
    pool: new SecretPool(),
    enclave: Enclave.seal(SecretBuffer.random(8)),
  };
}

function dropFixtures(fx: Fixtures): void {
  fx.enclave.destroy();
  fx.pool.destroy();
  fx.key.destroy();
}

interface Entry {
  /** The entry point, and which of its bags. */
  name: string;
  /** Plain keys the bag holds besides the hostile one. */
  base?: Record<string, unknown>;
  /** The hostile key, and what a well-behaved getter answers once. */
  key: string;
  value: unknown;
  call: (options: unknown, fx: Fixtures) => unknown;
}

function withFd<T>(use: (fd: number) => T): T {
  const fd = openSync(file, "r");
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

const entries: Entry[] = [
  {
    name: "SecretBuffer.alloc",
    key: "lock",
    value: "best-effort",
    call: (o) => SecretBuffer.alloc(8, o as never),
  },
  {
    name: "SecretBuffer.random",
    key: "placement",
    value: "start",
    call: (o) => SecretBuffer.random(8, o as never),
  },
  {
    name: "SecretBuffer.from",
    key: "wipeSource",
    value: true,
    call: (o) => SecretBuffer.from(new Uint8Array([1, 2]), o as never),
  },
  {
    name: "SecretBuffer.from (a SecretBuffer)",
    key: "placement",
    value: "start",
    call: (o, fx) => SecretBuffer.from(fx.key, o as never),
  },
  {
    name: "SecretBuffer.prototype.slice",
    key: "lock",
    value: "best-effort",
    call: (o, fx) => fx.key.slice(0, 4, o as never),
  },
  {
    name: "SecretBuffer.fromHex",
    key: "lock",
    value: "best-effort",
    call: (o) => SecretBuffer.fromHex("0102", o as never),
  },
  {
    name: "SecretBuffer.fromBase64",
    key: "backend",
    value: "anonymous",
    call: (o) => SecretBuffer.fromBase64("AQI=", o as never),
  },
  {
    name: "SecretBuffer.fromText",
    key: "lock",
    value: "best-effort",
    call: (o) => SecretBuffer.fromText("pw", o as never),
  },
  {
    name: "SecretBuffer.fromFile",
    key: "timeout",
    value: 1000,
    call: (o) => SecretBuffer.fromFile(file, o as never),
  },
  {
    name: "SecretBuffer.fromFileSync",
    key: "maxSize",
    value: 64,
    call: (o) => SecretBuffer.fromFileSync(file, o as never),
  },
  {
    name: "SecretBuffer.fromFd",
    key: "maxSize",
    value: 64,
    call: async (o) => {
      const fd = openSync(file, "r");
      try {
        return await SecretBuffer.fromFd(fd, o as never);
      } finally {
        closeSync(fd);
      }
    },
  },
  {
    name: "SecretBuffer.fromFdSync",
    key: "maxSize",
    value: 64,
    call: (o) => withFd((fd) => SecretBuffer.fromFdSync(fd, o as never)),
  },
  {
    name: "SecretBuffer.fromStream",
    key: "maxSize",
    value: 64,
    call: (o) =>
      SecretBuffer.fromStream(
        (async function* () {
          yield new Uint8Array([1, 2, 3]);
        })(),
        o as never,
      ),
  },
  // The three that read stdin get a value refused after it is read, so
  // that none of them waits for a byte.
  {
    name: "SecretBuffer.fromStdin",
    key: "lock",
    value: "bogus",
    call: (o) => SecretBuffer.fromStdin(o as never),
  },
  {
    name: "SecretBuffer.fromStdinSync",
    key: "lock",
    value: "bogus",
    call: (o) => SecretBuffer.fromStdinSync(o as never),
  },
  {
    name: "promptSecret",
    key: "allowPipe",
    value: "bogus",
    call: (o) => promptSecret("key: ", o as never),
  },
  {
    name: "new SecretPool",
    key: "rest",
    value: "readwrite",
    call: (o) => new SecretPool(o as never),
  },
  {
    name: "SecretPool.prototype.from",
    key: "wipeSource",
    value: true,
    call: (o, fx) => fx.pool.from(new Uint8Array([1, 2]), o as never),
  },
  {
    name: "Enclave.seal",
    key: "destroySource",
    value: true,
    call: (o) => {
      const source = SecretBuffer.random(4);
      try {
        return Enclave.seal(source, o as never);
      } finally {
        source.destroy();
      }
    },
  },
  {
    name: "Enclave.prototype.open",
    key: "placement",
    value: "start",
    call: (o, fx) => fx.enclave.open(o as never),
  },
  {
    name: "encrypt (params)",
    key: "aad",
    value: new Uint8Array(2),
    call: (o, fx) => encrypt(fx.key, new Uint8Array([1]), o as never),
  },
  {
    name: "decrypt (params)",
    key: "aad",
    value: undefined,
    call: (o, fx) => decrypt(fx.key, fx.message, o as never),
  },
  {
    name: "decrypt (options)",
    key: "lock",
    value: "best-effort",
    call: (o, fx) => decrypt(fx.key, fx.message, undefined, o as never),
  },
  {
    name: "hkdf (params)",
    key: "length",
    value: 16,
    call: (o, fx) => hkdf("SHA-256", fx.key, o as never),
  },
  {
    name: "hkdf (options)",
    key: "lock",
    value: "best-effort",
    call: (o, fx) => hkdf("SHA-256", fx.key, { length: 16 }, o as never),
  },
  {
    name: "scryptSync (params)",
    base: scryptParams,
    key: "length",
    value: 16,
    call: (o, fx) => scryptSync(fx.key, o as never),
  },
  {
    name: "scryptSync (options)",
    key: "lock",
    value: "best-effort",
    call: (o, fx) => scryptSync(fx.key, scryptParams, o as never),
  },
  {
    name: "scrypt (params)",
    base: scryptParams,
    key: "N",
    value: 2,
    call: (o, fx) => scrypt(fx.key, o as never),
  },
  {
    name: "scrypt (options)",
    key: "placement",
    value: "start",
    call: (o, fx) => scrypt(fx.key, scryptParams, o as never),
  },
  // Process-wide effects: the value read is refused, so nothing changes.
  {
    name: "hardenProcess",
    key: "skip",
    value: "dumpable",
    call: (o) => hardenProcess(o as never),
  },
  {
    name: "configure",
    key: "lock",
    value: "bogus",
    call: (o) => configure(o as never),
  },
  {
    name: "findCopies",
    key: "exclude",
    value: "none",
    call: (o) => findCopies(new Uint8Array(16).fill(0x5c), o as never),
  },
];

/** What a call came to: its value (disposed of here) or its error. */
async function outcome(
  entry: Entry,
  options: unknown,
  fx: Fixtures,
): Promise<{ error?: unknown }> {
  let result: unknown;
  try {
    result = await entry.call(options, fx);
  } catch (error) {
    return { error };
  }
  const disposable = result as { destroy?: () => void } | undefined;
  if (typeof disposable?.destroy === "function") disposable.destroy();
  return {};
}

function assertCaused(
  entry: Entry,
  how: string,
  { error }: { error?: unknown },
): void {
  assert(error instanceof SecretMemoryError, `${entry.name}, ${how}: ${error}`);
  assert.equal(error.code, "INVALID_ARGUMENT", `${entry.name}, ${how}`);
  assert.equal(error.cause, boom, `${entry.name}, ${how}: the cause is kept`);
}

function footprint(): string {
  const { liveBuffers, lockedBytes, unlockedBytes } = stats();
  return JSON.stringify({ liveBuffers, lockedBytes, unlockedBytes });
}

for (const entry of entries) {
  test(
    `${entry.name}: a lying options bag is INVALID_ARGUMENT, read once`,
    async () => {
      const fx = makeFixtures();
      const before = footprint();
      const target = { ...entry.base, [entry.key]: entry.value };

      const getter = { ...entry.base };
      Object.defineProperty(getter, entry.key, {
        enumerable: true,
        get() {
          throw boom;
        },
      });
      assertCaused(
        entry,
        "a throwing getter",
        await outcome(entry, getter, fx),
      );

      const throwing = (trap: keyof ProxyHandler<object>) =>
        new Proxy(target, {
          [trap]() {
            throw boom;
          },
        });
      for (
        const trap of ["get", "ownKeys", "getOwnPropertyDescriptor"] as const
      ) {
        assertCaused(
          entry,
          `a Proxy whose ${trap} throws`,
          await outcome(entry, throwing(trap), fx),
        );
      }
      // `in` is never asked: the bag behaves as the plain object it wraps.
      const plain = await outcome(entry, target, fx);
      const withHas = await outcome(entry, throwing("has"), fx);
      assert.equal(
        (withHas.error as SecretMemoryError | undefined)?.code,
        (plain.error as SecretMemoryError | undefined)?.code,
        `${entry.name}: a throwing has trap changes nothing`,
      );

      // Asked twice, this getter would answer a value every check refuses.
      let reads = 0;
      const counting = { ...entry.base };
      Object.defineProperty(counting, entry.key, {
        enumerable: true,
        get() {
          return reads++ === 0 ? entry.value : Symbol("second read");
        },
      });
      const counted = await outcome(entry, counting, fx);
      assert.equal(reads, 1, `${entry.name} read ${entry.key} ${reads} times`);
      assert.equal(
        (counted.error as SecretMemoryError | undefined)?.code,
        (plain.error as SecretMemoryError | undefined)?.code,
        `${entry.name}: the value read once is the value used`,
      );

      for (
        const value of [null, 1, "lock", true, Symbol("x"), 1n, () => ({})]
      ) {
        const { error } = await outcome(entry, value, fx);
        assert(
          error instanceof SecretMemoryError,
          `${entry.name}: ${String(value)}`,
        );
        assert.equal(
          error.code,
          "INVALID_ARGUMENT",
          `${entry.name}: ${String(value)}`,
        );
      }
      assert.equal(footprint(), before, `${entry.name} left something mapped`);
      dropFixtures(fx);
    },
    // findCopies reads /proc/self: off Linux it refuses before any option.
    { skip: entry.name === "findCopies" && linuxOnly },
  );
}

test(
  "an option's own array that lies (skip, exclude) is INVALID_ARGUMENT",
  () => {
    const lying = () =>
      new Proxy([], {
        get() {
          throw boom;
        },
      });
    for (
      const call of [
        () => hardenProcess({ skip: lying() } as never),
        () => findCopies(new Uint8Array(16).fill(0x5c), { exclude: lying() }),
      ]
    ) {
      const error = assertThrowsCode(call, "INVALID_ARGUMENT");
      assert.equal(error.cause, boom);
    }
  },
  { skip: linuxOnly },
);

/** Bytes whose buffer a getter can transfer away in the middle of a call. */
function bytesOf(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

test(
  "a crypto call whose params or options getter detaches a byte argument is INVALID_ARGUMENT, never a wrong answer",
  async () => {
    const key = SecretBuffer.random(32);
    const live = stats().liveBuffers;
    const detached = (bytes: Uint8Array) => () => {
      (bytes.buffer as ArrayBuffer).transfer();
      return undefined;
    };
    // encrypt: the aad getter takes the plaintext away (once, a ciphertext
    // of zeros: the length had been taken before the getter ran).
    const plain = bytesOf(64, 0x41);
    assertThrowsCode(
      () =>
        encrypt(key, plain, {
          get aad() {
            return detached(plain)();
          },
        }),
      "INVALID_ARGUMENT",
    );
    // encrypt: a global generator replaced after import (one that would
    // take the aad away) is never called: the nonce comes from the
    // generator as it was at load.
    const aad = bytesOf(16, 7);
    let called = 0;
    const original = Object.getOwnPropertyDescriptor(crypto, "getRandomValues");
    Object.defineProperty(crypto, "getRandomValues", {
      configurable: true,
      value: <T extends ArrayBufferView>(array: T): T => {
        called++;
        (aad.buffer as ArrayBuffer).transfer();
        return array;
      },
    });
    try {
      const sealed = encrypt(key, bytesOf(8, 1), { aad });
      assert.equal(called, 0, "the replaced generator ran");
      using opened = decrypt(key, sealed, { aad: bytesOf(16, 7) });
      assert.equal(opened.size, 8);
    } finally {
      if (original === undefined) {
        delete (crypto as { getRandomValues?: unknown }).getRandomValues;
      } else Object.defineProperty(crypto, "getRandomValues", original);
    }
    // decrypt: the aad getter takes the message away; the options getter
    // takes the aad away.
    const message = encrypt(key, bytesOf(8, 2), { aad: bytesOf(4, 3) });
    const copy = message.slice();
    assertThrowsCode(
      () =>
        decrypt(key, copy, {
          get aad() {
            return detached(copy)();
          },
        }),
      "INVALID_ARGUMENT",
    );
    const late = bytesOf(4, 3);
    assertThrowsCode(
      () =>
        decrypt(key, message, { aad: late }, {
          get lock() {
            return detached(late)();
          },
        }),
      "INVALID_ARGUMENT",
    );
    // hkdf: the info getter takes the salt away; the options getter, the info.
    const salt = bytesOf(32, 4);
    assertThrowsCode(
      () =>
        hkdf("SHA-256", key, {
          salt,
          get info() {
            return detached(salt)();
          },
          length: 32,
        }),
      "INVALID_ARGUMENT",
    );
    const info = bytesOf(8, 5);
    assertThrowsCode(
      () =>
        hkdf("SHA-256", key, { info, length: 32 }, {
          get lock() {
            return detached(info)();
          },
        }),
      "INVALID_ARGUMENT",
    );
    // scrypt and scryptSync: the options getter takes the salt away.
    for (const run of [scryptSync, scrypt]) {
      const scryptSalt = bytesOf(16, 6);
      await assertRejectsCode(
        () =>
          later(() =>
            run(key, { salt: scryptSalt, N: 16, r: 1, p: 1, length: 32 }, {
              get lock() {
                return detached(scryptSalt)();
              },
            })
          ),
        "INVALID_ARGUMENT",
      );
    }
    assert.equal(stats().liveBuffers, live, "nothing left mapped");
    // With nothing detached, the same calls give the right answer.
    const kept = bytesOf(64, 0x41);
    using back = decrypt(key, encrypt(key, kept, { aad: undefined }));
    assert(back.equals(bytesOf(64, 0x41)));
    key.destroy();
  },
  { skip: linuxOnly },
);

// Bun for Windows under Wine fails a recursive rmSync of this folder with
// EFAULT; Wine's temporary folder is thrown away with its prefix anyway.
test("options files cleaned up", () => {
  rmSync(dir, { recursive: true, force: true });
}, { skip: linuxOnly });
