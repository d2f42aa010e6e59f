/**
 * Fences that must fault: each touch happens in a child process that must
 * die of SIGSEGV before it can print `survived`. Canary corruption, which
 * cannot fault, must be caught at destroy instead.
 *
 * @module
 */

import { SecretBuffer, stats } from "../mod.ts";
import { native } from "../src/core/_native.ts";
import { secmemMappingOverlaps } from "../src/doctor/_procfs.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "./_error_code.ts";
import { childScript, runChild } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

function diedOfSegv(mode: string): void {
  const child = runChild(childScript("touch.ts"), [mode]);
  const output = child.stdout + child.stderr;
  assert(
    /address 0x[0-9a-f]+/.test(child.stdout),
    `the child reached the touch (${mode}): ${output.slice(0, 400)}`,
  );
  assert(!child.stdout.includes("survived"), `the child survived ${mode}`);
  const segv = child.signal === "SIGSEGV" || child.status === 139;
  assert(
    segv,
    `${mode}: expected SIGSEGV, got status ${child.status}, signal ${child.signal}`,
  );
  console.log(
    `[${runtime}]   ${mode}: child ended by ${
      child.signal ?? `status ${child.status}`
    }`,
  );
}

test(
  "reading a buffer at rest through a kept view kills the process (SIGSEGV)",
  () => diedOfSegv("read-at-rest"),
  {
    skip: linuxOnly,
  },
);
test(
  "writing a buffer at rest through a kept view kills the process",
  () => diedOfSegv("write-at-rest"),
  {
    skip: linuxOnly,
  },
);
test(
  "a native write one byte past the end hits the guard page and kills the process",
  () => diedOfSegv("overflow"),
  {
    skip: linuxOnly,
  },
);
test(
  "a native write before the data pages hits the leading guard page",
  () => diedOfSegv("underflow"),
  {
    skip: linuxOnly,
  },
);

for (const placement of ["end", "start"] as const) {
  test(
    `a corrupted canary (placement ${placement}) makes destroy throw CANARY_CORRUPTED and still unmap`,
    () => {
      const before = stats().liveBuffers;
      const buffer = SecretBuffer.random(24, { placement });
      const address = buffer.address;
      const canary = placement === "end" ? address - 16n : address + 24n;
      buffer.protect("readwrite");
      native().wipe(canary, 16);
      buffer.protect("noaccess");
      assertThrowsCode(
        () => buffer.read(() => 0),
        "CANARY_CORRUPTED",
        "opening checks the canary",
      );
      assert.deepEqual(
        buffer.state,
        "noaccess",
        "a corrupted buffer is not left open",
      );
      assertThrowsCode(() => buffer.destroy(), "CANARY_CORRUPTED");
      assert.deepEqual(buffer.state, "destroyed");
      assert.deepEqual(stats().liveBuffers, before);
      const stillMapped = secmemMappingOverlaps(address, address + 1n);
      assert(
        !stillMapped,
        "the range was unmapped despite the corrupted canary",
      );
      buffer.destroy();
    },
    { skip: linuxOnly },
  );
}

test("a one-byte underflow into the canary is caught", () => {
  const buffer = SecretBuffer.from(new Uint8Array([1, 2, 3]));
  buffer.protect("readwrite");
  // Flip one canary byte: copy the byte after it (certainly different
  // only by chance), so write its complement via a scratch buffer.
  const scratch = SecretBuffer.alloc(1);
  scratch.protect("readwrite");
  buffer.view; // still open
  const canaryByte = new Uint8Array(native().view(buffer.address - 1n, 1));
  scratch.view[0] = ~canaryByte[0] & 0xff;
  native().copy(buffer.address - 1n, scratch.address, 1);
  (canaryByte.buffer as ArrayBuffer).transfer(0);
  scratch.destroy();
  buffer.protect("noaccess");
  assertThrowsCode(() => buffer.destroy(), "CANARY_CORRUPTED");
}, { skip: linuxOnly });
