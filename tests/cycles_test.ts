/**
 * 10,000 alloc/destroy cycles leave nothing behind: locked memory (VmLck)
 * and secmem's mappings return to their start values.
 *
 * @module
 */

import { SecretBuffer, stats } from "../mod.ts";
import { parseMaps, readMaps, readProcText } from "../src/doctor/_procfs.ts";
import { ownStatus } from "./_forensics.ts";
import assert from "node:assert/strict";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

/** Mappings with wipe-on-fork set: only secmem's data pages carry it. */
function wipeOnForkMappings(): number {
  const smaps = parseMaps(readProcText("/proc/self/smaps"));
  return smaps.filter((m) => m.flags.includes("wf")).length;
}

test(
  "10,000 alloc/destroy cycles: VmLck and the map count return to start",
  () => {
    SecretBuffer.alloc(1).destroy();
    const lockedBefore = ownStatus("VmLck");
    const mapsBefore = readMaps().length;
    const oursBefore = wipeOnForkMappings();
    const live = stats().liveBuffers;
    for (let i = 0; i < 10_000; i++) {
      const buffer = i % 2 === 0
        ? SecretBuffer.random(32)
        : SecretBuffer.alloc(1 + (i % 5000));
      if (i % 3 === 0) buffer.read(() => 0);
      buffer.destroy();
    }
    const lockedAfter = ownStatus("VmLck");
    const mapsAfter = readMaps().length;
    const oursAfter = wipeOnForkMappings();
    console.log(
      `[${runtime}]   VmLck ${lockedBefore} -> ${lockedAfter} bytes; maps ${mapsBefore} -> ${mapsAfter};` +
        ` secmem data mappings ${oursBefore} -> ${oursAfter}`,
    );
    assert.deepEqual(lockedAfter, lockedBefore, "VmLck");
    assert.deepEqual(
      oursAfter,
      oursBefore,
      "secmem data mappings (VmFlags wf)",
    );
    // The runtime maps heap space of its own meanwhile (Deno's map count grew
    // by 12 here); a leak of ours would add three mappings per cycle.
    const drift = Math.abs(mapsAfter - mapsBefore);
    assert(drift <= 64, `map count drift ${drift}`);
    assert.deepEqual(stats().liveBuffers, live);
  },
  { skip: linuxOnly },
);
