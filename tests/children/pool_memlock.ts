/**
 * Child for the lock-limit test, run without CAP_IPC_LOCK under a small
 * RLIMIT_MEMLOCK: fills a pool until an arena cannot be locked, then
 * prints one JSON line saying what the failure left behind.
 *
 * @module
 */

import { SecretMemoryError, SecretPool, type SecretSlot } from "../../mod.ts";
import { native, useNativeForTesting } from "../../src/core/_native.ts";
import { ownStatus } from "../_forensics.ts";

// The real native layer, watched: every reservation must be released.
const real = native();
const reserved = new Set<bigint>();
useNativeForTesting({
  ...real,
  reserve(length) {
    const address = real.reserve(length);
    reserved.add(address);
    return address;
  },
  release(address, length) {
    reserved.delete(address);
    real.release(address, length);
  },
});

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
const locked = ownStatus("VmLck");
const outstanding = reserved.size;
let again: string | undefined;
try {
  pool.random(32);
} catch (error) {
  again = (error as SecretMemoryError).code;
}
const outstandingAfterRetry = reserved.size;
const lockedAfterRetry = ownStatus("VmLck");

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
  outstanding,
  arenas: stats.arenas,
  sameReservations: outstanding === outstandingAfterRetry,
  sameLocked: locked === lockedAfterRetry,
  firstIntact: first.equals(marker),
  lenient: {
    live: unlocked.length,
    mappedBytes: lenientStats.mappedBytes,
    lockedBytes: lenientStats.lockedBytes,
  },
}));
