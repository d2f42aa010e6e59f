/**
 * Tests for reading files, descriptors and stdin into guarded pages, and
 * writing guarded bytes out to a descriptor.
 *
 * @module
 */

import {
  closeSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FdOrFile, SecretBuffer, stats } from "../mod.ts";
import { runtime, test as register } from "./_harness.ts";
import assert from "node:assert/strict";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { childScript, runChild } from "./_child.ts";
import { isWindows, linuxOnly } from "./_platform.ts";

// These tests pass descriptor numbers from node:fs. On Windows those are C
// runtime descriptors, not the handles ReadFile/WriteFile take, so the
// number-taking forms are POSIX-only for now.
const posixDescriptors: string | false = isWindows
  ? "descriptor numbers from node:fs are C runtime descriptors on Windows, not handles"
  : false;
const test: typeof register = (name, body, options = {}) =>
  register(name, body, { skip: posixDescriptors || options.skip });

const folder = mkdtempSync(join(tmpdir(), "secmem-input-"));

/** Writes `secret` to a new file through writeToSync; returns its path. */
function fileOf(name: string, secret: SecretBuffer): string {
  const path = join(folder, name);
  const fd = openSync(path, "w");
  try {
    assert.deepEqual(secret.writeToSync(fd), secret.size, "bytes written");
  } finally {
    closeSync(fd);
  }
  return path;
}

test("fromFile reads a file into a buffer of its exact size", async () => {
  using secret = SecretBuffer.random(100);
  const path = fileOf("exact", secret);
  using read = await SecretBuffer.fromFile(path);
  assert.deepEqual(read.size, 100);
  assert(read.equals(secret), "content differs");
  assert.deepEqual(read.state, "noaccess");
});

test("fromFile grows through several buffers for large input", async () => {
  using secret = SecretBuffer.random(200_000);
  const path = fileOf("large", secret);
  const before = stats().liveBuffers;
  using read = await SecretBuffer.fromFile(path, { maxSize: 1 << 20 });
  assert.deepEqual(read.size, 200_000);
  assert(read.equals(secret), "content differs");
  assert.deepEqual(stats().liveBuffers, before + 1, "only the result is live");
});

test("fromFileSync and a file: URL read the same bytes", () => {
  using secret = SecretBuffer.random(33);
  const path = fileOf("sync", secret);
  using read = SecretBuffer.fromFileSync(new URL(`file://${path}`));
  assert(read.equals(secret), "content differs");
});

test("fromFile accepts input of exactly maxSize and refuses one byte more", async () => {
  using secret = SecretBuffer.random(5000);
  const path = fileOf("boundary", secret);
  using exact = await SecretBuffer.fromFile(path, { maxSize: 5000 });
  assert.deepEqual(exact.size, 5000);
  const before = stats();
  const error = await assertRejectsCode(
    () => SecretBuffer.fromFile(path, { maxSize: 4999 }),
    "TOO_LARGE",
  );
  assert(error.message.includes("4999"), error.message);
  assertThrowsCode(
    () => SecretBuffer.fromFileSync(path, { maxSize: 10 }),
    "TOO_LARGE",
  );
  assert.deepEqual(stats(), before, "nothing left mapped");
});

test("the default maxSize is 64 KiB", async () => {
  using secret = SecretBuffer.random(65537);
  const path = fileOf("default-max", secret);
  await assertRejectsCode(() => SecretBuffer.fromFile(path), "TOO_LARGE");
  using fits = await SecretBuffer.fromFile(path, { maxSize: 65537 });
  assert.deepEqual(fits.size, 65537);
});

test("an empty file gives an empty buffer", async () => {
  const path = join(folder, "empty");
  writeFileSync(path, "");
  using read = await SecretBuffer.fromFile(path);
  assert.deepEqual(read.size, 0);
});

test("fromFile reports a missing file with its errno", async () => {
  const error = await assertRejectsCode(
    () => SecretBuffer.fromFile(join(folder, "missing")),
    "OS_ERROR",
  );
  assert.deepEqual(error.errno, 2);
  assert.deepEqual(error.syscall, "open");
}, { skip: linuxOnly });

test("fromFile rejects bad arguments without mapping anything", async () => {
  const before = stats();
  await assertRejectsCode(
    () => SecretBuffer.fromFile(42 as unknown as string),
    "INVALID_ARGUMENT",
  );
  await assertRejectsCode(
    () => SecretBuffer.fromFile("/etc/hostname", { maxSize: -1 }),
    "INVALID_SIZE",
  );
  await assertRejectsCode(
    () => SecretBuffer.fromFile("/etc/hostname", { maxSize: 1.5 }),
    "INVALID_SIZE",
  );
  await assertRejectsCode(
    () =>
      SecretBuffer.fromFile("/etc/hostname", {
        lock: "sometimes" as "required",
      }),
    "INVALID_ARGUMENT",
  );
  assert.deepEqual(stats(), before);
});

test("fromFd reads from a descriptor's position and leaves it open", async () => {
  using secret = SecretBuffer.random(64);
  const path = fileOf("fd", secret);
  const fd = openSync(path, "r");
  try {
    using read = await SecretBuffer.fromFd(fd);
    assert(read.equals(secret), "content differs");
    using again = SecretBuffer.fromFdSync(fd);
    assert.deepEqual(again.size, 0, "the descriptor was at its end");
  } finally {
    closeSync(fd);
  }
});

test("fromFd reads a FileHandle (or, in Deno, an FsFile)", async () => {
  using secret = SecretBuffer.random(3000);
  const path = fileOf("handle", secret);
  const handle = await open(path, "r");
  try {
    using read = await SecretBuffer.fromFd(handle, { maxSize: 4096 });
    assert(read.equals(secret), "FileHandle content differs");
  } finally {
    await handle.close();
  }
  const deno = (globalThis as unknown as {
    Deno?: {
      open(
        path: string,
      ): Promise<Parameters<typeof SecretBuffer.fromFd>[0] & { close(): void }>;
    };
  }).Deno;
  if (deno === undefined) return;
  using file = await deno.open(path) as unknown as
    & Disposable
    & Parameters<typeof SecretBuffer.fromFd>[0];
  using read = await SecretBuffer.fromFd(file, { maxSize: 4096 });
  assert(read.equals(secret), "FsFile content differs");
});

test("fromFd through a Deno FsFile also enforces maxSize", async () => {
  using secret = SecretBuffer.random(300);
  const path = fileOf("fsfile-max", secret);
  const deno = (globalThis as unknown as {
    Deno: {
      open(
        path: string,
      ): Promise<Disposable & Parameters<typeof SecretBuffer.fromFd>[0]>;
    };
  }).Deno;
  const before = stats();
  {
    using file = await deno.open(path);
    // writeTo through the FsFile's own write(view), read back through read.
    const copyPath = join(folder, "fsfile-copy");
    const writable = await (deno as unknown as {
      create(path: string): Promise<Disposable & FdOrFile>;
    }).create(copyPath);
    try {
      assert.deepEqual(await secret.writeTo(writable), 300);
    } finally {
      writable[Symbol.dispose]();
    }
    using back = await SecretBuffer.fromFile(copyPath);
    assert(back.equals(secret), "content written through FsFile differs");
    await assertRejectsCode(
      () => SecretBuffer.fromFd(file, { maxSize: 299 }),
      "TOO_LARGE",
    );
  }
  assert.deepEqual(
    stats().liveBuffers,
    before.liveBuffers,
    "nothing left mapped",
  );
}, { skip: runtime === "deno" ? false : "Deno.FsFile is Deno's" });

test("fromFd refuses what is not a descriptor", async () => {
  await assertRejectsCode(() => SecretBuffer.fromFd(-1), "INVALID_ARGUMENT");
  await assertRejectsCode(
    () => SecretBuffer.fromFd({} as unknown as number),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(() => SecretBuffer.fromFdSync(1.5), "INVALID_ARGUMENT");
});

test("writeTo writes every byte and refuses a destroyed buffer", async () => {
  using secret = SecretBuffer.random(10_000);
  const path = join(folder, "written");
  const handle = await open(path, "w");
  try {
    assert.deepEqual(await secret.writeTo(handle), 10_000);
  } finally {
    await handle.close();
  }
  using read = await SecretBuffer.fromFile(path);
  assert(read.equals(secret), "content differs");
  const gone = SecretBuffer.random(4);
  gone.destroy();
  await assertRejectsCode(() => gone.writeTo(1), "DESTROYED");
  assertThrowsCode(() => gone.writeToSync(1), "DESTROYED");
});

for (const mode of ["async", "sync"]) {
  test(`fromStdin${mode === "sync" ? "Sync" : ""} reads a pipe to its end`, () => {
    const input = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    const run = runChild(childScript("input_stdin.ts"), [mode, "100000"], {
      input,
    });
    assert.deepEqual(run.stderr, "");
    const hex = Array.from(input, (b) => b.toString(16).padStart(2, "0"))
      .join("");
    assert.deepEqual(run.stdout.trim(), `size 70000 hex ${hex}`);
  });

  test(`fromStdin${mode === "sync" ? "Sync" : ""} refuses input past maxSize`, () => {
    const run = runChild(childScript("input_stdin.ts"), [mode, "16"], {
      input: "seventeen bytes!!",
    });
    assert.deepEqual(run.stdout.trim(), "error TOO_LARGE", run.stderr);
  });
}

test("fromStdin reads a file redirected to stdin", () => {
  const path = join(folder, "redirected");
  writeFileSync(path, "abc");
  const run = runChild(childScript("input_stdin.ts"), ["async", "3"], {
    shellPrefix: `exec <'${path}';`,
  });
  assert.deepEqual(run.stdout.trim(), "size 3 hex 616263", run.stderr);
}, { skip: linuxOnly });

test("input test files are removed", () => {
  rmSync(folder, { recursive: true, force: true });
});
