/**
 * Scale: a million alloc/destroy cycles and twenty thousand live buffers,
 * each in a fresh child; locked memory, secmem's mappings and stats() must
 * come back exactly to where they started. The anchor (ANCHORS.md):
 * sodium-native's alloc+free loop grows VmLck by 4 KiB per cycle and
 * aborts the process after about 16,000 cycles.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { describeChild, lastJson, say } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface Snapshot {
  vmLck: number;
  maps: number;
  secmemMaps: number;
  liveBuffers: number;
  lockedBytes: number;
}

interface ScaleReport {
  cycles: number;
  cyclesMs: number;
  beforeCycles: Snapshot;
  afterCycles: Snapshot;
  live: number;
  allocMs: number;
  destroyMs: number;
  atPeak: Snapshot;
  afterLive: Snapshot;
}

function flat(label: string, before: Snapshot, after: Snapshot): void {
  assert.deepEqual(after.vmLck, before.vmLck, `${label}: VmLck`);
  assert.deepEqual(
    after.secmemMaps,
    before.secmemMaps,
    `${label}: secmem mappings (VmFlags wf)`,
  );
  assert.deepEqual(
    after.liveBuffers,
    before.liveBuffers,
    `${label}: stats().liveBuffers`,
  );
  assert.deepEqual(
    after.lockedBytes,
    before.lockedBytes,
    `${label}: stats().lockedBytes`,
  );
}

function text(s: Snapshot): string {
  return `VmLck ${s.vmLck} B, maps ${s.maps} (secmem ${s.secmemMaps}), live ${s.liveBuffers}`;
}

test(
  "1,000,000 alloc/destroy cycles and 20,000 live buffers leave nothing behind",
  () => {
    const result = runChild(
      childScript("proof_scale.ts"),
      ["1000000", "20000"],
      {
        timeout: 900_000,
      },
    );
    assert.deepEqual(result.status, 0, describeChild(result));
    const r = lastJson<ScaleReport>(result.stdout);
    say(
      `  ${r.cycles.toLocaleString("en")} cycles of alloc(32)+destroy in ${
        (r.cyclesMs / 1000).toFixed(1)
      } s` +
        ` (${((r.cyclesMs * 1000) / r.cycles).toFixed(1)} us/cycle)`,
    );
    say(`    before: ${text(r.beforeCycles)}`);
    say(
      `    after:  ${
        text(r.afterCycles)
      } (other maps are the runtime's own heap)`,
    );
    say(
      `  ${
        r.live.toLocaleString("en")
      } live buffers: allocated in ${r.allocMs} ms, destroyed in ${r.destroyMs} ms`,
    );
    say(`    at peak: ${text(r.atPeak)}`);
    say(`    after:   ${text(r.afterLive)}`);
    say(
      "  anchor (ANCHORS.md): sodium-native grows VmLck 4 KiB per alloc+free cycle and aborts" +
        ` after about 16,000 cycles; here VmLck moved ${
          r.afterCycles.vmLck - r.beforeCycles.vmLck
        } B` +
        ` over ${r.cycles.toLocaleString("en")} cycles`,
    );
    flat("after the cycles", r.beforeCycles, r.afterCycles);
    assert.deepEqual(
      r.atPeak.liveBuffers - r.afterCycles.liveBuffers,
      r.live,
      "live buffers at peak",
    );
    assert.deepEqual(
      r.atPeak.secmemMaps - r.afterCycles.secmemMaps,
      r.live,
      "one wipe-on-fork data mapping per live buffer",
    );
    assert.deepEqual(
      r.atPeak.vmLck - r.afterCycles.vmLck,
      r.atPeak.lockedBytes - r.afterCycles.lockedBytes,
      "VmLck at peak matches stats().lockedBytes",
    );
    flat("after destroying the live buffers", r.afterCycles, r.afterLive);
  },
  { skip: linuxOnly },
);
