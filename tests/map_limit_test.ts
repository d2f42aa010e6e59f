/**
 * The one /proc reader (ffi/procfs.ts, `NativeMemory.procText`) and the
 * map-limit check over it: the real reader on Linux, and the check against
 * the fake native layer standing in for /proc.
 *
 * @module
 */

import { native } from "../src/core/_native.ts";
import {
  checkMapHeadroom,
  heldMappings,
  mappingHeld,
  mappingReleased,
} from "../src/core/_map_limit.ts";
import { SecretBuffer } from "../src/secret_buffer.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "./_error_code.ts";
import { createFake } from "./_fake_native.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test(
  "procText reads whole /proc files and throws OS_ERROR ENOENT for a missing one",
  () => {
    const read = native().procText;
    assert(read !== undefined, "Linux has the reader");
    const maps = read("/proc/self/maps");
    const lines = maps.split("\n").filter((line) => line !== "");
    assert(lines.length > 10, `${lines.length} mappings`);
    assert(maps.endsWith("\n"), "the last line is whole");
    const head = /^[0-9a-f]+-[0-9a-f]+ [-r][-w][-x][ps] /;
    assert.match(lines[0], head);
    // Larger than one read (64 KiB): every mapping keeps its VmFlags line,
    // so no chunk was lost or repeated at a seam.
    const smaps = read("/proc/self/smaps");
    assert(smaps.length > 16384, `${smaps.length} bytes of smaps`);
    const smapsLines = smaps.split("\n");
    assert.equal(
      smapsLines.filter((line) => line.startsWith("VmFlags:")).length,
      smapsLines.filter((line) => head.test(line)).length,
    );
    assert.match(read("/proc/sys/vm/max_map_count"), /^\d+\n$/);
    const error = assertThrowsCode(
      () => read("/proc/self/task/2147483647/stat"),
      "OS_ERROR",
    );
    assert.equal(error.errno, 2);
    assert.equal(error.syscall, "open");
  },
  { skip: linuxOnly },
);

test("procText leaves no scratch mapping and no descriptor behind", () => {
  const memory = native();
  const read = memory.procText!;
  // The lowest free descriptor now: a leaked one would take it.
  const probe = memory.openRead("/proc/self/stat");
  memory.close(probe);
  const before = read("/proc/self/maps").split("\n").length;
  for (let i = 0; i < 50; i++) read("/proc/self/maps");
  // Other code of the runtime may map meanwhile; 50 leaked scratch
  // mappings could not hide in that slack.
  const after = read("/proc/self/maps").split("\n").length;
  assert(after - before < 25, `${before} mappings before, ${after} after`);
  const again = memory.openRead("/proc/self/stat");
  memory.close(again);
  assert.equal(again, probe, "every descriptor the reader opened is closed");
}, { skip: linuxOnly });

test("the map-limit check reads the limit and the maps through the fake's procText", () => {
  // A real buffer first: the process table attaches to the real layer.
  SecretBuffer.alloc(1).destroy();
  const limit = 65530;
  const withMaps = (count: number) =>
    createFake({
      procFiles: {
        "/proc/sys/vm/max_map_count": `${limit}\n`,
        "/proc/self/maps": "m\n".repeat(count),
      },
    });
  let added = 0;
  try {
    while (heldMappings() < 600) {
      mappingHeld();
      added++;
    }
    const far = withMaps(100);
    checkMapHeadroom(far.memory);
    assert.deepEqual(far.calls, [
      "procText:/proc/sys/vm/max_map_count",
      "procText:/proc/self/maps",
    ]);
    // 8191 (an eighth of the limit) stay free for the runtime.
    const near = withMaps(limit - 8191 - 2);
    const error = assertThrowsCode(
      () => checkMapHeadroom(near.memory),
      "MAP_LIMIT",
    );
    assert.match(error.message, /holds 57337 memory mappings/);
    assert.match(error.message, new RegExp(`max_map_count is ${limit}`));
    const room = withMaps(limit - 8191 - 3);
    checkMapHeadroom(room.memory);
    // Unreadable /proc: no limit is invented, nothing is thrown.
    const blind = createFake();
    checkMapHeadroom(blind.memory);
    assert.deepEqual(blind.calls, ["procText:/proc/sys/vm/max_map_count"]);
  } finally {
    for (; added > 0; added--) mappingReleased();
  }
});
