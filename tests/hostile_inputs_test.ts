/**
 * Adversarial suite, class 9: inputs that block or mislead. The async
 * `fromFile` never blocks the event loop (a FIFO opens non-blocking and is
 * waited for with timers), and a path means exactly one file: a `file:`
 * URL is decoded before the NUL check, and its host must be this machine.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SecretBuffer, stats } from "../mod.ts";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const dir = mkdtempSync(join(tmpdir(), "secmem-inputs-"));
const key = join(dir, "key");
writeFileSync(key, "right");

function fifo(name: string): string {
  const path = join(dir, name);
  const made = spawnSync("mkfifo", [path]);
  assert.equal(made.status, 0, String(made.stderr));
  return path;
}

test(
  "fromFile on a FIFO keeps the event loop running while it waits",
  async () => {
    const path = fifo("pipe");
    // O_RDWR on a FIFO opens at once and keeps a writer present, so the
    // reader sees "no data yet" (EAGAIN) rather than end of file.
    const writer = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    writeSync(writer, "abc");
    let ticks = 0;
    const ticking = setInterval(() => {
      ticks++;
      if (ticks === 3) closeSync(writer);
    }, 5);
    try {
      const secret = await SecretBuffer.fromFile(path, { maxSize: 64 });
      // The writer closed only after three timer ticks: a blocking read
      // would have stalled the loop for ever (writer and reader share it).
      assert(ticks >= 3, `only ${ticks} timer ticks`);
      assert(secret.equals(new TextEncoder().encode("abc")));
      secret.destroy();
    } finally {
      clearInterval(ticking);
    }
  },
  { skip: linuxOnly },
);

test("fromFile on a FIFO with no writer does not hang", async () => {
  const secret = await SecretBuffer.fromFile(fifo("lonely"));
  assert.equal(secret.size, 0);
  secret.destroy();
}, { skip: linuxOnly });

const refused: [string, URL | string][] = [
  ["an encoded NUL", new URL(`${pathToFileURL(key).href}%00.bak`)],
  ["an encoded NUL mid-name", new URL(`${pathToFileURL(dir).href}/k%00ey`)],
  ["an encoded slash", new URL(`${pathToFileURL(dir).href}%2Fkey`)],
  ["another host", new URL(`file://example.com${pathToFileURL(key).pathname}`)],
  ["bad percent-encoding", new URL(`${pathToFileURL(dir).href}/%E0%A4%A`)],
  ["an http URL", new URL("http://localhost/etc/passwd")],
  ["a string with NUL", `${key}\0.bak`],
  ["an empty string", ""],
];

for (const [name, path] of refused) {
  test(`fromFile refuses a path with ${name}`, async () => {
    const live = stats().liveBuffers;
    await assertRejectsCode(
      () => SecretBuffer.fromFile(path),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(() => SecretBuffer.fromFileSync(path), "INVALID_ARGUMENT");
    assert.equal(stats().liveBuffers, live);
  });
}

test(
  "a file: URL for localhost or no host names the file it shows",
  async () => {
    const plain = await SecretBuffer.fromFile(pathToFileURL(key));
    assert(plain.equals(new TextEncoder().encode("right")));
    plain.destroy();
    const local = SecretBuffer.fromFileSync(
      new URL(`file://localhost${pathToFileURL(key).pathname}`),
    );
    assert(local.equals(new TextEncoder().encode("right")));
    local.destroy();
  },
  { skip: linuxOnly },
);

// Bun for Windows under Wine fails a recursive rmSync of this folder with
// EFAULT; Wine's temporary folder is thrown away with its prefix anyway.
test("input files cleaned up", () => {
  rmSync(dir, { recursive: true, force: true });
}, { skip: linuxOnly });
