/**
 * A million live 32-byte secrets in one process (in a child, so its heap
 * and mappings do not weigh on the rest of the suite).
 *
 * Needs CAP_IPC_LOCK or a locked-memory limit of at least 64 MiB: the peak
 * locks about 48 MB (printed). Root here has the capability.
 *
 * @module
 */

import { native } from "../src/core/_native.ts";
import { readProcText } from "../src/doctor/_procfs.ts";
import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const COUNT = 1_000_000;
const NEEDED = 64 * 1024 * 1024;
const CAP_IPC_LOCK = 14;

function lockSkip(): string | false {
  if (linuxOnly) return linuxOnly;
  const status = readProcText("/proc/self/status");
  const capabilities = BigInt(`0x${/^CapEff:\s+(\S+)/m.exec(status)![1]}`);
  if ((capabilities >> BigInt(CAP_IPC_LOCK)) & 1n) return false;
  if (native().lockLimit().soft >= NEEDED) return false;
  return `needs CAP_IPC_LOCK or a locked-memory limit of at least ${NEEDED} bytes (ulimit -l ${
    NEEDED / 1024
  })`;
}

test(
  "a million live 32-byte secrets: sampled, destroyed, VmLck and secmem maps back to start",
  () => {
    const child = runChild(childScript("pool_million.ts"), [String(COUNT)], {
      // Let the child collect its heap before the last measurement.
      env: { DENO_V8_FLAGS: "--expose-gc", NODE_OPTIONS: "--expose-gc" },
      timeout: 600_000,
    });
    assert.deepEqual(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
    const { start, peak, end } = report;
    console.log(
      `    peak: ${peak.stats.liveSlots} live secrets, ${peak.maps} VMAs in the process` +
        ` (${peak.securedMaps} secmem data mappings, ${peak.stats.arenas} arenas),` +
        ` VmLck ${peak.vmLck} bytes; start ${start.maps} VMAs, end ${end.maps} VMAs` +
        ` (the runtime's heap grew for a million handles);` +
        ` alloc ${report.allocMs} ms, destroy ${report.freeMs} ms`,
    );
    assert.deepEqual(peak.stats.liveSlots, COUNT);
    assert(peak.maps < 65530 / 4, `far below vm.max_map_count (${peak.maps})`);
    assert(peak.vmLck >= COUNT * 32, "every secret's page is locked");
    assert.deepEqual(report.sample, 10_000);
    assert.deepEqual(report.verified, 10_000, "sampled contents unchanged");
    assert.deepEqual(report.distinct, 10_000, "sampled contents distinct");
    assert.deepEqual(
      report.neighboursDiffer,
      10_000,
      "each differs from neighbours",
    );
    assert.deepEqual(report.corrupted, 0, "no canary disturbed");
    assert.deepEqual(end.vmLck, start.vmLck, "VmLck back to its start");
    assert.deepEqual(end.securedMaps, start.securedMaps, "secmem maps back");
    assert.deepEqual(end.stats.liveSlots, 0);
    assert.deepEqual(end.stats.arenas, 1, "one spare arena, as at the start");
  },
  { skip: lockSkip() },
);
