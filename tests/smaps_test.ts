/**
 * The kernel's own record of a buffer: /proc/self/smaps must show the data
 * pages locked (lo), out of dumps (dd), wiped on fork (wf), inaccessible at
 * rest, fenced by inaccessible guard pages, and gone after destroy.
 *
 * @module
 */

import { SecretBuffer } from "../mod.ts";
import { mappingAround, secmemMappingOverlaps } from "../src/doctor/_procfs.ts";
import assert from "node:assert/strict";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { madviseIgnored } from "./aarch64/_qemu.ts";

for (
  const [size, placement] of [[32, "end"], [5000, "end"], [32, "start"], [
    0,
    "end",
  ]] as const
) {
  test(
    `smaps: a ${size}-byte buffer (${placement}) is locked, dontdump, wipeonfork and fenced`,
    () => {
      const buffer = SecretBuffer.random(size, { placement });
      const address = buffer.address;
      const probe = size === 0 && placement === "end" ? address - 1n : address;
      const { before, at, after } = mappingAround(probe);
      assert(at !== undefined, "the data pages are mapped");
      // Under qemu-user madvise never reaches the kernel: only `lo` can
      // show, and tests/aarch64/qemu_test.ts checks the madvise calls.
      for (const flag of madviseIgnored ? ["lo"] : ["lo", "dd", "wf"]) {
        assert(
          at.flags.includes(flag),
          `VmFlags has ${flag}: ${at.flags.join(" ")}`,
        );
      }
      assert.deepEqual(at.perms, "---p", "data pages at rest");
      assert(
        before !== undefined && before.end === at.start,
        "a mapping right before",
      );
      assert(
        after !== undefined && after.start === at.end,
        "a mapping right after",
      );
      assert.deepEqual(before.perms, "---p", "leading guard");
      assert.deepEqual(after.perms, "---p", "trailing guard");
      // A neighbour's guard page may merge with ours into one larger VMA.
      assert(
        before.end - before.start >= 4096n && after.end - after.start >= 4096n,
        "whole guard pages",
      );
      assert(
        !before.flags.includes("lo") && !after.flags.includes("lo"),
        "guard pages are not locked",
      );
      if (placement === "end") {
        assert.deepEqual(
          address + BigInt(size),
          at.end,
          "user bytes end at the guard",
        );
      }
      buffer.read(() =>
        assert.deepEqual(mappingAround(probe).at?.perms, "r--p")
      );
      buffer.write(() =>
        assert.deepEqual(mappingAround(probe).at?.perms, "rw-p")
      );
      buffer.destroy();
      assert(
        !secmemMappingOverlaps(at.start, at.end),
        "unmapped after destroy",
      );
      console.log(
        `[${runtime}]   ${size} B ${placement}: ${at.flags.join(" ")}`,
      );
    },
    { skip: linuxOnly },
  );
}
