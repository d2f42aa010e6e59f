/**
 * The input wing after a built-in was replaced following import: code that
 * patches a global later (a hostile dependency, a careless polyfill) must
 * never be handed a view over guarded pages. Each patch is undone before
 * the test ends.
 *
 * @module
 */

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretBuffer } from "../../mod.ts";
import { test } from "../_harness.ts";
import { childScript, runtimeCommand } from "../_child.ts";
import { linuxOnly } from "../_platform.ts";

/**
 * Runs `body` with `Reflect.apply` replaced by a wrapper that keeps every
 * Uint8Array it is handed in an argument list, then puts it back.
 */
async function watchingReflectApply(
  body: () => Promise<void>,
): Promise<Uint8Array[]> {
  const saved = Object.getOwnPropertyDescriptor(Reflect, "apply")!;
  const real = Reflect.apply;
  const seen: Uint8Array[] = [];
  Object.defineProperty(Reflect, "apply", {
    ...saved,
    value: (
      fn: (...args: unknown[]) => unknown,
      self: unknown,
      args: ArrayLike<unknown>,
    ) => {
      for (let i = 0; i < args.length; i++) {
        if (args[i] instanceof Uint8Array) seen.push(args[i] as Uint8Array);
      }
      return real(fn, self, args);
    },
  });
  try {
    await body();
  } finally {
    Object.defineProperty(Reflect, "apply", saved);
  }
  return seen;
}

test("writeTo(file object): a Reflect.apply replaced after import is never handed the secret's view", async () => {
  using key = SecretBuffer.from(new Uint8Array([0x5e, 0xc2, 0xe7, 0x01]));
  const written: number[] = [];
  const file = {
    read: () => Promise.resolve(null),
    write: (view: Uint8Array) => {
      written.push(...view);
      return Promise.resolve(view.length);
    },
  };
  const seen = await watchingReflectApply(async () => {
    assert.equal(await key.writeTo(file), 4);
  });
  assert.deepEqual(written, [0x5e, 0xc2, 0xe7, 0x01]);
  assert.equal(seen.length, 0, "the replaced Reflect.apply saw a view");
});

test("fromFd(file object): a Reflect.apply replaced after import is never handed the lent pages", async () => {
  let served = false;
  const file = {
    read: (view: Uint8Array) => {
      if (served) return Promise.resolve(null);
      served = true;
      view.set([0x70, 0x61, 0x73, 0x73]);
      return Promise.resolve(4);
    },
    write: () => Promise.resolve(0),
  };
  let size = 0;
  const seen = await watchingReflectApply(async () => {
    using secret = await SecretBuffer.fromFd(file);
    size = secret.size;
  });
  assert.equal(size, 4);
  assert.equal(seen.length, 0, "the replaced Reflect.apply saw a view");
});

/**
 * Runs `body` with `String.prototype.charCodeAt` replaced by a wrapper
 * that keeps every string it is called on, then puts it back.
 */
function watchingCharCodeAt(body: () => void): string[] {
  const saved = Object.getOwnPropertyDescriptor(
    String.prototype,
    "charCodeAt",
  )!;
  const real = saved.value as (this: string, i: number) => number;
  const seen: string[] = [];
  Object.defineProperty(String.prototype, "charCodeAt", {
    ...saved,
    value: function (this: string, i: number): number {
      seen.push(String(this));
      return Reflect.apply(real, this, [i]);
    },
  });
  try {
    body();
  } finally {
    Object.defineProperty(String.prototype, "charCodeAt", saved);
  }
  return seen;
}

test("fromHex, fromBase64, fromText: a charCodeAt replaced after import never sees the secret text", () => {
  const cases: [string, (text: string) => SecretBuffer][] = [
    ["5ec2e701", (text) => SecretBuffer.fromHex(text)],
    ["XsLnAQ==", (text) => SecretBuffer.fromBase64(text)],
    ["correct horse \u00e9\ud83d\udd11", (text) => SecretBuffer.fromText(text)],
  ];
  for (const [text, make] of cases) {
    let size = 0;
    const seen = watchingCharCodeAt(() => {
      using secret = make(text);
      size = secret.size;
    });
    assert.ok(size > 0);
    assert.equal(
      seen.filter((s) => s === text).length,
      0,
      `the replaced charCodeAt was called on the secret text ${
        JSON.stringify(text.slice(0, 2))
      }...`,
    );
  }
});

const python = spawnSync("python3", ["-c", "import os"]).status === 0;

// Opens the FIFO read-write and non-blocking as the child's stdin (the
// flag lives in the open file, which the child shares), puts "pass" in it,
// then runs the child in its place.
const NON_BLOCKING_STDIN = [
  "import os, sys",
  "fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)",
  "os.write(fd, b'pass')",
  "os.dup2(fd, 0)",
  "os.execvp(sys.argv[2], sys.argv[2:])",
].join("\n");

test(
  "promptSecret waiting on a non-blocking pipe: a setTimeout replaced after import is never called",
  () => {
    const folder = mkdtempSync(join(tmpdir(), "secmem-patched-"));
    try {
      const fifo = join(folder, "stdin");
      execFileSync("mkfifo", [fifo]);
      const child = spawnSync("python3", [
        "-c",
        NON_BLOCKING_STDIN,
        fifo,
        ...runtimeCommand(childScript("prompt_patched_timer.ts")),
        fifo,
      ], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
      const stdout = String(child.stdout);
      assert.equal(child.status, 0, stdout + String(child.stderr));
      const seen = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
      assert.equal(seen.size, 4, "the prompt read the line");
      assert.equal(seen.replacedCalls, 0, "the replaced setTimeout was called");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
  {
    skip: linuxOnly ||
      (python ? false : "needs python3 to give the child a non-blocking stdin"),
  },
);
