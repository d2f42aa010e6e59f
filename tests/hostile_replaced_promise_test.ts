/**
 * Promise machinery replaced after the library's import must not keep a
 * scope open: an async scope used to close by `finally` looked up at call
 * time, so a replaced `Promise.prototype.finally` left the pages readable
 * for good (review R2, finding 2). Each case below replaces one piece only
 * around the call, so that the harness's own promises keep working.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { replacedWhile } from "./_replaced.ts";
import { SecretBuffer, SecretPool } from "../mod.ts";

const makers = {
  buffer: () => SecretBuffer.from(new Uint8Array([1, 2, 3])),
  slot: () => new SecretPool().from(new Uint8Array([1, 2, 3])),
};

// Each never calls back, or refuses: the scope must close all the same.
const replacements: [string, object, PropertyKey, unknown][] = [
  [
    "Promise.prototype.finally",
    Promise.prototype,
    "finally",
    function (this: unknown) {
      return this;
    },
  ],
  [
    "Promise.prototype.then",
    Promise.prototype,
    "then",
    function (this: unknown) {
      return this;
    },
  ],
  ["Promise[Symbol.species]", Promise, Symbol.species, function () {
    throw new Error("no promises today");
  }],
  ["globalThis.Promise", globalThis, "Promise", function () {
    throw new Error("no promises today");
  }],
];

for (const [name, make] of Object.entries(makers)) {
  for (const [what, target, key, value] of replacements) {
    test(`${what} replaced after import: a ${name}'s async read still closes`, async () => {
      const secret = make();
      const pending = replacedWhile(
        target,
        key,
        value,
        () =>
          secret.read(async (bytes) => {
            const first = bytes[0];
            await undefined;
            return first;
          }),
      );
      // A refused species makes the library close at once and reject. Not
      // awaited: before the fix, some never settled.
      let outcome: PromiseSettledResult<number> | undefined;
      Promise.allSettled([pending]).then(([settled]) => outcome = settled);
      for (let turn = 0; turn < 3; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      assert.ok(outcome !== undefined, "the read's promise settled");
      if (outcome.status === "fulfilled") assert.equal(outcome.value, 1);
      assert.equal(secret.state, "noaccess", "the pages rest closed");
      assert.equal(secret.read((bytes) => bytes[2]), 3, "and open again");
      secret.destroy();
    });
  }
}

test("a thenable that calls back twice closes its scope once: another scope stays open", async () => {
  using secret = SecretBuffer.from(new Uint8Array([9]));
  let release!: () => void;
  const outer = secret.read(
    (bytes) =>
      new Promise<number>((resolve) => {
        release = () => resolve(bytes[0]);
      }),
  );
  const twice = {
    then(resolve: (v: number) => void) {
      resolve(1);
      resolve(2);
    },
  };
  assert.equal(
    await (secret.read(() => twice) as unknown as Promise<number>),
    1,
  );
  assert.equal(secret.state, "readonly", "the outer scope still holds it open");
  release();
  assert.equal(await outer, 9, "read inside the outer scope, not a fault");
  assert.equal(secret.state, "noaccess");
});

// A thenable may call back with another thenable: the scope follows it, as
// `await` would, and closes only when that one settles (review R4: it
// closed at the first call back, and the callback's later read faulted).
for (const [name, make] of Object.entries(makers)) {
  test(`a ${name}'s thenable that resolves with a pending promise keeps the scope open until it settles`, async () => {
    const secret = make();
    let release!: () => void;
    const later = new Promise<void>((resolve) => release = resolve);
    const pending = secret.read((bytes) => ({
      then(resolve: (value: unknown) => void) {
        resolve(later.then(() => bytes[0] + bytes[2]));
      },
    })) as unknown as Promise<number>;
    for (let turn = 0; turn < 3; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.equal(secret.state, "readonly", "open while the inner promise is");
    release();
    assert.equal(await pending, 4, "read inside the scope, not a fault");
    assert.equal(secret.state, "noaccess", "closed once it settled");
    const rejected = secret.read(() => ({
      then(resolve: (value: unknown) => void) {
        resolve({
          then(_: unknown, reject: (reason: unknown) => void) {
            reject(new Error("inner refused"));
          },
        });
      },
    })) as unknown as Promise<number>;
    await assert.rejects(rejected, /inner refused/);
    assert.equal(secret.state, "noaccess", "closed on the inner refusal");
    secret.destroy();
  });
}

test("a then getter planted on Object.prototype is never handed a secret that a promise resolves with", async () => {
  const { aeadKey } = await import("../crypto.ts");
  const { Ed25519Key, X25519Key } = await import("../keys.ts");
  const { Enclave } = await import("../enclave.ts");
  using pool = new SecretPool();
  using buffer = SecretBuffer.from(new Uint8Array([1, 2, 3]));
  using slot = pool.from(new Uint8Array([4, 5, 6]));
  using signer = Ed25519Key.generate();
  using agreer = X25519Key.generate();
  using sealed = aeadKey(SecretBuffer.random(32));
  const enclave = Enclave.seal(SecretBuffer.from(new Uint8Array([1])));
  const secrets: object[] = [buffer, slot, signer, agreer, sealed, enclave];
  const handed: string[] = [];
  Object.defineProperty(Object.prototype, "then", {
    get(this: object) {
      if (secrets.includes(this)) handed.push(String(this));
      return undefined;
    },
    configurable: true,
  });
  let streamed: SecretBuffer;
  try {
    for (const secret of secrets) await Promise.resolve(secret);
    // The library's own async functions resolve with the secret too.
    streamed = await SecretBuffer.fromStream((async function* () {
      yield new Uint8Array([7, 8, 9]);
    })());
  } finally {
    delete (Object.prototype as Record<string, unknown>).then;
  }
  streamed.destroy();
  enclave.destroy();
  assert.deepEqual(handed, []);
});
