/**
 * Child for the lock-limit test, run without CAP_IPC_LOCK under a small
 * RLIMIT_MEMLOCK: fills a pool until an arena cannot be locked, then
 * prints one JSON line saying what the failure left behind.
 *
 * @module
 */

import { SecretMemoryError, SecretPool, type SecretSlot } from "../../mod.ts";
import { readProcText } from "../../src/_procfs.ts";

function mapCount(): number {
  return readProcText("/proc/self/maps").split("\n").filter((l) => l !== "")
    .length;
}

const marker = new Uint8Array(32).map((_, i) => i + 1);
const pool = new SecretPool();
const first = pool.from(marker, { wipeSource: false });
const slots: SecretSlot[] = [first];
let failure: SecretMemoryError | undefined;
while (failure === undefined && slots.length < 1_000_000) {
  try {
    slots.push(pool.alloc(32));
  } catch (error) {
    if (!(error instanceof SecretMemoryError)) throw error;
    failure = error;
  }
}
const stats = pool.stats();
const maps = mapCount();
let again: string | undefined;
try {
  pool.random(32);
} catch (error) {
  again = (error as SecretMemoryError).code;
}
const mapsAfterRetry = mapCount();

const lenient = new SecretPool({ lock: "best-effort" });
const unlocked = Array.from({ length: 2000 }, () => lenient.random(32));
const lenientStats = lenient.stats();

console.log(JSON.stringify({
  code: failure?.code,
  message: failure?.message,
  live: slots.length,
  statsLive: stats.liveSlots,
  again,
  sameStats: JSON.stringify(pool.stats()) === JSON.stringify(stats),
  sameMaps: maps === mapsAfterRetry,
  firstIntact: first.equals(marker),
  lenient: {
    live: unlocked.length,
    mappedBytes: lenientStats.mappedBytes,
    lockedBytes: lenientStats.lockedBytes,
  },
}));
