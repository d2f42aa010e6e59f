/**
 * `Array.prototype.includes`, `Array.prototype.find` and `Object.keys`
 * replaced after the library's import do not decide which options it
 * takes: an unknown option value, an unknown option key and an unknown
 * `SECMEM_LOCK` are still refused with `INVALID_ARGUMENT`, before anything
 * is mapped. A replacement that always answered "listed" would otherwise
 * turn a typo (or a hostile value) into a policy nobody asked for.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import {
  hardenProcess,
  type HardenResult,
  SecretBuffer,
  SecretMemoryError,
  stats,
} from "../mod.ts";
import { useNativeForTesting } from "../src/core/_native.ts";
import { createFake } from "./_fake_native.ts";
import {
  LOCK_VARIABLE,
  resetLockPolicyForTesting,
} from "../src/core/_policy.ts";
import { test } from "./_harness.ts";

interface Replacement {
  name: string;
  target: object;
  key: string | symbol;
  value: unknown;
}

const REPLACEMENTS: Replacement[] = [
  {
    name: "Array.prototype.includes answering true",
    target: Array.prototype,
    key: "includes",
    value: () => true,
  },
  {
    name: "Array.prototype.find finding nothing",
    target: Array.prototype,
    key: "find",
    value: () => undefined,
  },
  {
    name: "Object.keys answering no keys",
    target: Object,
    key: "keys",
    value: () => [],
  },
];

/**
 * What `fn` threw (or returned) while `replacement` stood. Nothing else
 * runs under it: the assertions that follow would use it too.
 */
function under(replacement: Replacement, fn: () => unknown): unknown {
  const { target, key, value } = replacement;
  const saved = Object.getOwnPropertyDescriptor(target, key)!;
  Object.defineProperty(target, key, { ...saved, value });
  try {
    return fn();
  } catch (error) {
    return error;
  } finally {
    Object.defineProperty(target, key, saved);
  }
}

function assertRefused(outcome: unknown, what: string): void {
  if (outcome instanceof SecretBuffer) outcome.destroy();
  assert.ok(
    outcome instanceof SecretMemoryError,
    `${what}: expected SecretMemoryError INVALID_ARGUMENT, got ${
      String(outcome)
    }`,
  );
  assert.equal(outcome.code, "INVALID_ARGUMENT", `${what}: ${outcome.message}`);
}

for (const replacement of REPLACEMENTS) {
  test(`${replacement.name}: unknown option values and keys are still INVALID_ARGUMENT, nothing mapped`, () => {
    const before = stats();
    assertRefused(
      under(replacement, () =>
        SecretBuffer.alloc(8, {
          placement: "nonsense",
        } as unknown as { placement: "end" })),
      "placement: nonsense",
    );
    assertRefused(
      under(replacement, () =>
        SecretBuffer.alloc(8, {
          placment: "start",
        } as unknown as { placement: "start" })),
      "the misspelt key placment",
    );
    assert.deepEqual(stats(), before, "nothing left mapped");

    using buffer = SecretBuffer.alloc(8);
    assertRefused(
      under(replacement, () => buffer.protect("open" as "readwrite")),
      "protect(open)",
    );
    assert.equal(buffer.state, "noaccess");
  });
}

test("Array.prototype.includes answering true: an unknown SECMEM_LOCK is still INVALID_ARGUMENT, nothing mapped", () => {
  const saved = process.env[LOCK_VARIABLE];
  process.env[LOCK_VARIABLE] = "lax";
  resetLockPolicyForTesting();
  try {
    const before = stats();
    assertRefused(
      under(REPLACEMENTS[0], () => SecretBuffer.alloc(8)),
      `${LOCK_VARIABLE}=lax`,
    );
    assert.deepEqual(stats(), before, "nothing left mapped");
  } finally {
    if (saved === undefined) delete process.env[LOCK_VARIABLE];
    else process.env[LOCK_VARIABLE] = saved;
    resetLockPolicyForTesting();
  }
});

const arrayIteratorPrototype = Object.getPrototypeOf(
  [][Symbol.iterator](),
) as object;

/** Iteration of every array yields nothing, one way or the other. */
const EMPTY_ITERATION: Replacement[] = [
  {
    name: "Array.prototype[Symbol.iterator] yielding nothing",
    target: Array.prototype,
    key: Symbol.iterator,
    value: function* () {},
  },
  {
    name: "%ArrayIteratorPrototype%.next answering done",
    target: arrayIteratorPrototype,
    key: "next",
    value: () => ({ done: true, value: undefined }),
  },
];

for (const replacement of EMPTY_ITERATION) {
  test(`${replacement.name}: an option given is honoured, not dropped for its default`, () => {
    // The native layer is loaded before the replacement (its first load
    // under one fails closed, which is not what this test is about).
    SecretBuffer.alloc(1).destroy();
    const source = new Uint8Array([5, 5, 5]);
    const kept = under(
      replacement,
      () => SecretBuffer.from(source, { wipeSource: false }),
    );
    // Bun's own FFI wrapper iterates arrays: under this replacement its
    // native calls throw a TypeError, before any option is used. Refused
    // is honest; a quiet fallback to the default is what must not happen.
    if (kept instanceof SecretBuffer) kept.destroy();
    else assert.ok(kept instanceof Error, String(kept));
    assert.deepEqual([...source], [5, 5, 5], "wipeSource: false was dropped");

    const secret = under(
      replacement,
      () => SecretBuffer.alloc(8, { backend: "secretmem" }),
    );
    if (secret instanceof SecretBuffer) {
      const backend = secret.backend;
      secret.destroy();
      assert.equal(backend, "secretmem", "backend: secretmem was dropped");
    } else {
      // Refused is also honest (no memfd_secret here, or Bun's FFI, as
      // above); anything but a quiet fallback to anonymous pages.
      assert.ok(secret instanceof Error, String(secret));
    }
  });

  test(`${replacement.name}: hardenProcess (over a fake) reports every step, hardened only if one is in place`, () => {
    const fake = createFake();
    useNativeForTesting(fake.memory);
    let result: unknown;
    try {
      result = under(replacement, () => hardenProcess());
    } finally {
      useNativeForTesting(undefined);
    }
    if (result instanceof SecretMemoryError) return;
    assert.ok(!(result instanceof Error), String(result));
    const { steps, hardened } = result as HardenResult;
    const names = ["dumpable", "coreLimit", "crashDialog"] as const;
    for (const name of names) {
      assert.ok(Object.hasOwn(steps, name), `no ${name} step`);
    }
    const inPlace = names.some((name) =>
      steps[name].status === "done" || steps[name].status === "already"
    );
    assert.equal(hardened, inPlace);
  });
}

const THROWING: Replacement[] = ["map", "join"].map((key) => ({
  name: `Array.prototype.${key} throwing`,
  target: Array.prototype,
  key,
  value: () => {
    throw new Error(`replaced ${key}`);
  },
}));

for (const replacement of THROWING) {
  test(`${replacement.name}: a refused option value or key is still a SecretMemoryError INVALID_ARGUMENT naming it`, () => {
    using buffer = SecretBuffer.alloc(8);
    const cases: [string, () => unknown][] = [
      ["protect(open)", () => buffer.protect("open" as "readwrite")],
      [
        "placement: nonsense",
        () =>
          SecretBuffer.alloc(8, {
            placement: "nonsense",
          } as unknown as { placement: "end" }),
      ],
      [
        "the misspelt key placment",
        () =>
          SecretBuffer.alloc(8, {
            placment: "start",
          } as unknown as { placement: "start" }),
      ],
    ];
    for (const [what, fn] of cases) {
      const outcome = under(replacement, fn);
      assertRefused(outcome, what);
      // The message still says what was expected, not that reading threw.
      assert.match(
        (outcome as SecretMemoryError).message,
        /expected .*"?(readwrite|end|lock)/,
        what,
      );
    }
    assert.equal(buffer.state, "noaccess");
  });
}
