/**
 * Adversarial suite, class 9: inputs that block or mislead. The async
 * `fromFile` never blocks the event loop (a FIFO opens non-blocking and is
 * waited for with timers, up to a timeout, for a writer and its bytes), and a path means exactly one file: a `file:`
 * URL is decoded before the NUL check, and its host must be this machine.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
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

/** Descriptors of this process open on `path` (Linux's /proc/self/fd). */
function openOn(path: string): string[] {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // the directory's own descriptor, gone once listed
    }
  });
}

/** Opens `path`'s writing end after `ms`, from a timer: the loop must run. */
function writeLater(
  path: string,
  ms: number,
  act: (writer: number) => void,
): void {
  setTimeout(() => {
    // Non-blocking: the reader is already there, so this opens at once.
    act(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  }, ms);
}

test(
  "fromFile on a FIFO waits for a writer that opens late, timers ticking",
  async () => {
    const path = fifo("late");
    let ticks = 0;
    let ticksBeforeWriter = -1;
    const ticking = setInterval(() => ticks++, 10);
    writeLater(path, 300, (writer) => {
      ticksBeforeWriter = ticks;
      writeSync(writer, "late key");
      closeSync(writer);
    });
    try {
      const secret = await SecretBuffer.fromFile(path, { timeout: 60_000 });
      // The writer opened from a timer: a blocked loop never runs it, and a
      // read that took "no writer" for the end returned an empty secret.
      assert(ticksBeforeWriter > 0, `${ticksBeforeWriter} ticks before`);
      assert(secret.equals(new TextEncoder().encode("late key")));
      secret.destroy();
    } finally {
      clearInterval(ticking);
    }
    assert.deepEqual(openOn(path), [], "the FIFO's descriptor was closed");
  },
  { skip: linuxOnly },
);

test(
  "fromFile on a FIFO no writer opens fails with INPUT_ERROR after the timeout",
  async () => {
    const path = fifo("lonely");
    const live = stats().liveBuffers;
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 10);
    try {
      const error = await assertRejectsCode(
        () => SecretBuffer.fromFile(path, { timeout: 300 }),
        "INPUT_ERROR",
      );
      assert.match(error.message, /no writer opened it/);
      assert(ticks > 0, "timers ran while it waited");
    } finally {
      clearInterval(ticking);
    }
    assert.equal(stats().liveBuffers, live, "nothing left mapped");
    assert.deepEqual(openOn(path), [], "the FIFO's descriptor was closed");
  },
  { skip: linuxOnly },
);

test(
  "fromFile on a FIFO whose writer closes without writing is INPUT_ERROR",
  async () => {
    const path = fifo("mute");
    const live = stats().liveBuffers;
    // Held open over a few reads, so the reader sees it (EAGAIN), then
    // closed: that end of input has no byte, and an empty key is no key.
    writeLater(path, 50, (writer) => setTimeout(() => closeSync(writer), 100));
    const error = await assertRejectsCode(
      () => SecretBuffer.fromFile(path, { timeout: 60_000 }),
      "INPUT_ERROR",
    );
    assert.match(error.message, /closed it without writing/);
    assert.equal(stats().liveBuffers, live, "nothing left mapped");
    assert.deepEqual(openOn(path), [], "the FIFO's descriptor was closed");
  },
  { skip: linuxOnly },
);

test(
  "fromFile refuses a timeout that is not a whole number of ms",
  async () => {
    for (const timeout of [-1, 1.5, NaN, "5", null, -Infinity, 2 ** 60]) {
      await assertRejectsCode(
        () => SecretBuffer.fromFile(key, { timeout } as never),
        "INVALID_ARGUMENT",
      );
    }
    // Only fromFile waits: elsewhere a timeout would be quietly ignored.
    assertThrowsCode(
      () => SecretBuffer.fromFileSync(key, { timeout: 5 } as never),
      "INVALID_ARGUMENT",
    );
    await assertRejectsCode(
      () => SecretBuffer.fromStdin({ timeout: 5 } as never),
      "INVALID_ARGUMENT",
    );
    const plain = await SecretBuffer.fromFile(key, { timeout: 0 });
    assert(plain.equals(new TextEncoder().encode("right")), "files never wait");
    plain.destroy();
  },
  { skip: linuxOnly },
);

test(
  "fromFileSync on a FIFO blocks until its writer is done, as read(2) does",
  () => {
    const path = fifo("sync");
    // The writer is another process: this thread is blocked in open(2).
    const writer = spawn("sh", [
      "-c",
      `sleep 0.2; printf sync-key > "$1"`,
      "sh",
      path,
    ]);
    try {
      const secret = SecretBuffer.fromFileSync(path);
      assert(secret.equals(new TextEncoder().encode("sync-key")));
      secret.destroy();
    } finally {
      writer.kill();
    }
    assert.deepEqual(openOn(path), []);
  },
  { skip: linuxOnly },
);

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

test(
  "fromFile on /dev/zero lets timers run and ends in TOO_LARGE with nothing left mapped",
  async () => {
    const before = stats();
    const descriptors = openOn("/dev/zero").length;
    let ticks = 0;
    // A device that pread(2) accepts is read like a file, never waited
    // for: with no turn of the loop in between, these ticks would be 0.
    const ticking = setInterval(() => ticks++, 1);
    try {
      const error = await assertRejectsCode(
        () => SecretBuffer.fromFile("/dev/zero", { maxSize: 64 * 1024 * 1024 }),
        "TOO_LARGE",
      );
      assert.match(error.message, /maxSize \(67108864 bytes\)/);
      assert(ticks > 0, `${ticks} timer ticks while 64 MiB were read`);
    } finally {
      clearInterval(ticking);
    }
    const after = stats();
    assert.equal(after.liveBuffers, before.liveBuffers, "nothing left mapped");
    assert.equal(after.mappedBytes, before.mappedBytes);
    assert.equal(after.lockedBytes, before.lockedBytes);
    assert.equal(openOn("/dev/zero").length, descriptors, "descriptor closed");
  },
  { skip: linuxOnly },
);

// Bun for Windows under Wine fails a recursive rmSync of this folder with
// EFAULT; Wine's temporary folder is thrown away with its prefix anyway.
test("input files cleaned up", () => {
  rmSync(dir, { recursive: true, force: true });
}, { skip: linuxOnly });
