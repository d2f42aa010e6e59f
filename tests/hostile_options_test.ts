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
import { promptSecret, SecretBuffer, stats } from "../mod.ts";
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

// Bun for Windows under Wine fails a recursive rmSync of this folder with
// EFAULT; Wine's temporary folder is thrown away with its prefix anyway.
test("options files cleaned up", () => {
  rmSync(dir, { recursive: true, force: true });
}, { skip: linuxOnly });
