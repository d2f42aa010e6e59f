/**
 * `Map.prototype.get` replaced after the library's import must not reach
 * a secret. The library's classes are frozen, so a caller cannot swap
 * their methods; a Map the library looks something up in at call time is
 * the way round that: the keyed contexts' pools (`aeadKey`, `hmacKey`)
 * and the cipher parts a work area keeps. Checked by outcome: the key
 * bytes, which only the victim's buffer holds, are not what the
 * replacement got.
 *
 * @module
 */

import assert from "node:assert/strict";
import { purge, SecretBuffer, SecretPool, type SecretSlot } from "../mod.ts";
import { aeadKey, encrypt, hmacKey } from "../crypto.ts";
import { test } from "./_harness.ts";

const get = Map.prototype.get;

/** `fn()` with `Map.prototype.get` answering `answer(map, key)`. */
function replacedGet<T>(
  answer: (map: Map<unknown, unknown>, key: unknown) => unknown,
  fn: () => T,
): T {
  Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
    return answer(this, key);
  };
  try {
    return fn();
  } finally {
    Map.prototype.get = get;
  }
}

function keyBytes(key: SecretBuffer): number[] {
  return key.read((bytes) => Array.from(bytes));
}

test("Map.prototype.get answering a pool of its own: aeadKey and hmacKey keep their state in the library's slots", () => {
  using victim = SecretBuffer.random(32);
  const expected = keyBytes(victim);
  // Warm: the context pools exist already, as in a running program.
  aeadKey(victim).destroy();
  hmacKey("SHA-256", victim).destroy();

  const theirs = new SecretPool();
  const taken: SecretSlot[] = [];
  const steal = (map: Map<unknown, unknown>, key: unknown) =>
    typeof key === "string" && key.includes("/")
      ? { alloc: (size: number) => (taken[taken.length] = theirs.alloc(size)) }
      : Reflect.apply(get, map, [key]);
  let made: { destroy(): void }[] = [];
  try {
    made = [
      replacedGet(steal, () => aeadKey(victim)),
      replacedGet(steal, () => hmacKey("SHA-256", victim)),
    ];
    // hmacKey keeps the padded key's hash states, as good as the key.
    assert.equal(taken.length, 0, "a context's state is in their slot");
    for (const slot of taken) {
      const got = slot.read((bytes) => Array.from(bytes));
      assert.notDeepEqual(
        got.slice(0, 32),
        expected,
        "the key went into the replacement's slot",
      );
    }
  } finally {
    for (const context of made) context.destroy();
    for (const slot of taken) slot.destroy();
  }
});

test("Map.prototype.get answering parts of its own: encrypt hands the key to no replacement", () => {
  using victim = SecretBuffer.random(32);
  const expected = keyBytes(victim);
  // Warm: the work area and its cipher parts exist already.
  encrypt(victim, new Uint8Array(4));

  const seen: number[][] = [];
  const spy = (map: Map<unknown, unknown>, key: unknown) => {
    const real = Reflect.apply(get, map, [key]) as
      | { chacha?: Record<string, (...args: unknown[]) => unknown> }
      | undefined;
    const chacha = real?.chacha;
    if (chacha === undefined) return real;
    // Forwards every call to the real parts, and notes the key bytes
    // `init` is given.
    return {
      ...real,
      chacha: {
        init(bytes: Uint8Array, start: number, ...rest: unknown[]) {
          seen[seen.length] = Array.from(bytes.subarray(start, start + 32));
          return chacha.init(bytes, start, ...rest);
        },
        subkeyInto: (...args: unknown[]) => chacha.subkeyInto(...args),
        next: () => chacha.next(),
        get keystream() {
          return (chacha as unknown as { keystream: Uint8Array }).keystream;
        },
      },
    };
  };
  let sealed: unknown;
  try {
    sealed = replacedGet(spy, () => encrypt(victim, new Uint8Array(4)));
  } catch (error) {
    sealed = error;
  }
  for (const bytes of seen) {
    assert.notDeepEqual(bytes, expected, "the replacement saw the key");
  }
  assert.ok(sealed instanceof Uint8Array, String(sealed));
});

/** `fn()` with `target[key]` replaced by the descriptor `replacement`. */
function replaced<T>(
  target: object,
  key: string,
  replacement: PropertyDescriptor,
  fn: () => T,
): T {
  const saved = Object.getOwnPropertyDescriptor(target, key)!;
  Object.defineProperty(target, key, { ...saved, ...replacement });
  try {
    return fn();
  } finally {
    Object.defineProperty(target, key, saved);
  }
}

const COLLECTION_REPLACEMENTS: [string, object, string, PropertyDescriptor][] =
  [
    ["Map.prototype.get answering undefined", Map.prototype, "get", {
      value: () => undefined,
    }],
    ["Map.prototype.size answering 0", Map.prototype, "size", {
      get: () => 0,
    }],
    ["Set.prototype.has answering false", Set.prototype, "has", {
      value: () => false,
    }],
  ];

for (const [what, target, key, replacement] of COLLECTION_REPLACEMENTS) {
  test(`${what} while a slot is destroyed: a view kept of it, or its buffer transferred away, never shows the next secret in the pool`, () => {
    const pool = new SecretPool({ rest: "readwrite" });
    const mine = pool.alloc(32);
    let kept: Uint8Array = new Uint8Array(0);
    mine.read((view) => {
      kept = view;
    });
    const mineToo = pool.alloc(32);
    let moved: Uint8Array = new Uint8Array(0);
    mineToo.read((view) => {
      // Transferred away: the slot's memory may live on in `moved`.
      moved = new Uint8Array((view.buffer as ArrayBuffer).transfer());
    });
    replaced(target, key, replacement, () => {
      mine.destroy();
      mineToo.destroy();
    });
    const secrets = [1, 2, 3, 4].map(() =>
      pool.from(new Uint8Array(32).fill(0x5a))
    );
    try {
      for (const [name, view] of [["kept", kept], ["moved", moved]] as const) {
        const seen = view.length === 0 ? -1 : view[0];
        assert.notEqual(seen, 0x5a, `the ${name} view shows a later secret`);
      }
    } finally {
      for (const secret of secrets) secret.destroy();
    }
  });
}

const setIteratorPrototype = Object.getPrototypeOf(
  new Set()[Symbol.iterator](),
) as object;

const OPEN_SET_REPLACEMENTS: [string, object, string, PropertyDescriptor][] = [
  ["%SetIteratorPrototype%.next answering done", setIteratorPrototype, "next", {
    value: () => ({ done: true, value: undefined }),
  }],
  ["Set.prototype.size answering 0", Set.prototype, "size", { get: () => 0 }],
];

for (const [what, target, key, replacement] of OPEN_SET_REPLACEMENTS) {
  test(`${what}: from() over a new view of an open secret's buffer copies it and leaves that secret as it was`, () => {
    using secret = SecretBuffer.from(new Uint8Array(32).fill(7));
    let copy: unknown;
    secret.write((view) => {
      const other = new Uint8Array(view.buffer, 0, 32);
      copy = replaced(target, key, replacement, () => {
        try {
          return SecretBuffer.from(other);
        } catch (error) {
          return error;
        }
      });
    });
    if (copy instanceof SecretBuffer) copy.destroy();
    assert.deepEqual(
      secret.read((bytes) => Array.from(bytes)),
      new Array(32).fill(7),
      "from() wiped another secret's pages as if they were a caller's array",
    );
  });
}

const mapIteratorPrototype = Object.getPrototypeOf(
  new Map()[Symbol.iterator](),
) as object;
const arrayIteratorPrototype = Object.getPrototypeOf(
  [][Symbol.iterator](),
) as object;
const DONE = { value: () => ({ done: true, value: undefined }) };

for (
  const [what, target] of [
    ["%SetIteratorPrototype%.next", setIteratorPrototype],
    ["%MapIteratorPrototype%.next", mapIteratorPrototype],
    ["%ArrayIteratorPrototype%.next", arrayIteratorPrototype],
  ] as const
) {
  test(`${what} answering done: purge() still wipes every buffer and every pool slot`, () => {
    const buffer = SecretBuffer.from(new Uint8Array(32).fill(9));
    const pool = new SecretPool();
    const slot = pool.from(new Uint8Array(32).fill(9));
    try {
      replaced(target, "next", DONE, () => purge());
      assert.equal(buffer.state, "destroyed", "the buffer outlived purge()");
      assert.equal(slot.state, "destroyed", "the slot outlived purge()");
    } finally {
      buffer.destroy();
      slot.destroy();
    }
  });
}
