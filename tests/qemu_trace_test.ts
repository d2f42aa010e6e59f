/**
 * The reader of qemu-user's syscall log (tests/aarch64/_qemu.ts), over
 * lines as Node 26 under qemu-aarch64 7.2 wrote them: a call cut off by
 * another thread's line must still be found, or the aarch64 pass fails on
 * what the child did do (it failed so once, on the fork proof's madvise).
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { parseTrace, RESULT_LOST } from "./aarch64/_qemu.ts";

test("qemu's log: whole lines, unknown calls, and a call another thread cut off", () => {
  const log = [
    "10295 madvise(0x0000005744663000,4096,MADV_WIPEONFORK) = 0",
    "10295 Unknown syscall 425",
    "10295 futex(0x00000000071d5460,FUTEX_PRIVATE_FLAG|FUTEX_WAIT_BITSET,0,NULL,NULL,0)" +
    "10295 madvise(0x0000005744664000,4096,MADV_DONTDUMP) = 0",
    "10295 madvise(0x0000005744665000,4096,MADV_WIPEONFORK)" +
    "10295 getpid() = 10295",
    " = 0",
    "10295 clock_gettime(CLOCK_MONOTONIC,0x00000055016ee580) = 0 ({tv_sec = 37044,tv_nsec = 543628412})",
    "",
  ].join("\n");
  const calls = parseTrace(log);
  assert.deepEqual(
    calls.map((c) => `${c.name}(${c.args.join(",")}) = ${c.result}`),
    [
      "madvise(0x0000005744663000,4096,MADV_WIPEONFORK) = 0",
      "syscall_425() = ",
      `futex(0x00000000071d5460,FUTEX_PRIVATE_FLAG|FUTEX_WAIT_BITSET,0,NULL,NULL,0) = ${RESULT_LOST}`,
      "madvise(0x0000005744664000,4096,MADV_DONTDUMP) = 0",
      `madvise(0x0000005744665000,4096,MADV_WIPEONFORK) = ${RESULT_LOST}`,
      "getpid() = 10295",
      "clock_gettime(CLOCK_MONOTONIC,0x00000055016ee580) = 0 ({tv_sec = 37044,tv_nsec = 543628412})",
    ],
  );
});
