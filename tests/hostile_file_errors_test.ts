/**
 * Errors that say what to do (issue 23, class 6, the file entries): every
 * OS error from `fromFile` and `fromFileSync` names the path (never the
 * file's bytes) and the next step, keeps `errno` and `syscall`, and has the
 * OS's own error as its cause.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SecretBuffer, stats } from "../mod.ts";
import { SecretMemoryError } from "../src/core/errors.ts";
import { useNativeForTesting } from "../src/core/_native.ts";
import { test } from "./_harness.ts";
import { createFake } from "./_fake_native.ts";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { removeDir, tempDir } from "./_forensics.ts";
import { linuxOnly } from "./_platform.ts";

const CONTENT = "file-error-test-content-71c2";

/** Both file entries on `path`: the errors they end with. */
async function bothErrors(path: string): Promise<SecretMemoryError[]> {
  return [
    assertThrowsCode(() => SecretBuffer.fromFileSync(path), "OS_ERROR"),
    await assertRejectsCode(() => SecretBuffer.fromFile(path), "OS_ERROR"),
  ];
}

function assertSays(
  error: SecretMemoryError,
  path: string,
  errno: number,
  step: RegExp,
): void {
  assert(
    error.message.includes(JSON.stringify(path)),
    `names the path: ${error.message}`,
  );
  assert.match(error.message, step);
  assert(!error.message.includes(CONTENT), "never the file's bytes");
  assert.equal(error.errno, errno);
  assert.equal(typeof error.syscall, "string");
  assert(
    error.cause instanceof SecretMemoryError,
    "the OS's error is the cause",
  );
}

test(
  "a missing file: the path and 'check the path'",
  async () => {
    const before = stats();
    const dir = tempDir("ferr");
    try {
      const path = join(dir, "no-such-key");
      for (const error of await bothErrors(path)) {
        assertSays(error, path, 2, /ENOENT.*check the path/);
      }
      // A relative path is named as given, with where it starts.
      for (const error of await bothErrors("no-such-dir-71c2/key")) {
        assertSays(
          error,
          "no-such-dir-71c2/key",
          2,
          /relative one starts at the working directory/,
        );
      }
      assert.deepEqual(stats(), before, "nothing left mapped");
    } finally {
      removeDir(dir);
    }
  },
  { skip: linuxOnly },
);

test(
  "a directory, or a file used as one: the path and what to name instead",
  async () => {
    const dir = tempDir("ferr");
    try {
      const sub = join(dir, "keys");
      mkdirSync(sub);
      for (const error of await bothErrors(sub)) {
        assertSays(error, sub, 21, /EISDIR.*name a file in it/);
      }
      const file = join(dir, "key");
      writeFileSync(file, CONTENT);
      const through = join(file, "inner");
      for (const error of await bothErrors(through)) {
        assertSays(error, through, 20, /ENOTDIR.*not a directory/);
      }
    } finally {
      removeDir(dir);
    }
  },
  { skip: linuxOnly },
);

test("permission denied by the OS: the path and its permissions", async () => {
  // Root reads every file, so EACCES comes from the fake native layer.
  const fake = createFake();
  useNativeForTesting({
    ...fake.memory,
    openRead() {
      throw new SecretMemoryError("OS_ERROR", "Cannot complete open: EACCES", {
        errno: 13,
        syscall: "open",
      });
    },
  });
  try {
    for (const error of await bothErrors("/etc/secmem/key")) {
      assertSays(
        error,
        "/etc/secmem/key",
        13,
        /EACCES.*check the file's permissions/,
      );
    }
  } finally {
    useNativeForTesting(undefined);
  }
});
