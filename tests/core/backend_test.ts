/**
 * The backend option's decisions over a fake native layer, on any OS:
 * where secret memory is missing, refused, or over the lock limit, and
 * that nothing stays mapped when it fails.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import {
  type CommitResult,
  type NativeMemory,
  useNativeForTesting,
} from "../../src/core/_native.ts";
import { test } from "../_harness.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "../_error_code.ts";
import { createFake, type Fake } from "../_fake_native.ts";

type SecretAnswer = CommitResult | "unsupported";

/** A fake whose commitSecret answers from `answers` (then "ok"). */
function withSecretFake(
  answers: SecretAnswer[] | undefined,
  body: (fake: Fake, secretCalls: () => number) => void,
  canRaise = false,
): void {
  const fake = createFake({ canRaise });
  let calls = 0;
  const memory: NativeMemory = answers === undefined ? fake.memory : {
    ...fake.memory,
    commitSecret(address, length) {
      calls++;
      const answer = answers.shift() ?? "ok";
      if (answer === "ok") return fake.memory.commit(address, length, true);
      return answer;
    },
    secretMemory: () => ({ available: false, detail: "ENOSYS: fake" }),
  };
  useNativeForTesting(memory);
  try {
    body(fake, () => calls);
  } finally {
    useNativeForTesting(undefined);
  }
}

test("backend: without secret memory, secretmem is UNSUPPORTED_PLATFORM and auto is anonymous", () => {
  withSecretFake(undefined, (fake) => {
    assertThrowsCode(
      () => SecretBuffer.alloc(8, { backend: "secretmem" }),
      "UNSUPPORTED_PLATFORM",
    );
    assert.deepEqual(fake.mapped(), 0, "nothing left mapped");
    using buffer = SecretBuffer.alloc(8, { backend: "auto" });
    assert.deepEqual(buffer.backend, "anonymous");
  });
});

test("backend: a kernel that refuses memfd_secret names the reason", () => {
  withSecretFake(["unsupported", "unsupported"], (fake) => {
    const error = assertThrowsCode(
      () => SecretBuffer.alloc(8, { backend: "secretmem" }),
      "UNSUPPORTED_PLATFORM",
    );
    assert(error.message.includes("ENOSYS: fake"), error.message);
    assert.deepEqual(fake.mapped(), 0);
    using buffer = SecretBuffer.alloc(8, { backend: "auto" });
    assert.deepEqual(buffer.backend, "anonymous");
  });
});

test("backend: the lock limit is MEMLOCK_LIMIT for secretmem after one raise, a fallback for auto", () => {
  withSecretFake(["lock-limit", "lock-limit"], (fake, secretCalls) => {
    const error = assertThrowsCode(
      () =>
        SecretBuffer.alloc(8, { backend: "secretmem", lock: "best-effort" }),
      "MEMLOCK_LIMIT",
    );
    assert(error.message.includes("secret memory"), error.message);
    assert.deepEqual(secretCalls(), 2, "tried again after raising the limit");
    assert.deepEqual(fake.mapped(), 0);
  }, true);
  withSecretFake(["lock-limit"], (_fake, secretCalls) => {
    using buffer = SecretBuffer.alloc(8, { backend: "auto" });
    assert.deepEqual(buffer.backend, "anonymous");
    assert.deepEqual(
      secretCalls(),
      1,
      "no raise possible: straight to fallback",
    );
  }, false);
});

test("backend: secret pages are not given the dump and fork advice again and are counted as locked", () => {
  withSecretFake([], (fake) => {
    fake.calls.length = 0;
    const before = stats();
    using buffer = SecretBuffer.alloc(8, { backend: "secretmem" });
    assert.deepEqual(buffer.backend, "secretmem");
    assert.deepEqual(stats().lockedBytes - before.lockedBytes, 4096);
    assert.deepEqual(stats().secretmemBuffers - before.secretmemBuffers, 1);
    assert(
      !fake.calls.some((c) => c.startsWith("keepOutOfDumpsAndForks")),
      fake.calls.join(),
    );
  });
});
