/**
 * Child for the memlock proof, run without CAP_IPC_LOCK under a small
 * RLIMIT_MEMLOCK: allocates until the limit refuses, then checks what is
 * left, and prints the figures as one JSON line.
 *
 * @module
 */

import { SecretBuffer, SecretMemoryError, stats } from "../../mod.ts";
import { native } from "../../src/core/_native.ts";
import { emit, ownStatus, procText } from "../_forensics.ts";

const memory = native();

// Record every reservation, to check that the failed call left none.
const reserve = memory.reserve.bind(memory);
let reserved: [bigint, bigint][] = [];
(memory as { reserve: typeof reserve }).reserve = (length) => {
  const address = reserve(length);
  reserved.push([address, address + BigInt(length)]);
  return address;
};
const limitAtStart = memory.lockLimit();
const lockedAtStart = ownStatus("VmLck");
const liveAtStart = stats().liveBuffers;

/** Recognisable content for buffer `i`. */
function pattern(i: number): Uint8Array {
  const bytes = new Uint8Array(100);
  for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 7 + j * 13 + 1) & 0xff;
  return bytes;
}

const buffers: SecretBuffer[] = [];
let failure: unknown;
let mapsBeforeFailure: string[] = [];
let mapsAfterFailure: string[] = [];
let lockedAtLimit = 0;
let failedReservations: [bigint, bigint][] = [];
const mapLines = () => procText("/proc/self/maps").trim().split("\n");
for (let i = 0; i < 10_000; i++) {
  const maps = mapLines();
  reserved = [];
  try {
    buffers.push(SecretBuffer.from(pattern(i)));
  } catch (error) {
    mapsAfterFailure = mapLines();
    failedReservations = [...reserved];
    mapsBeforeFailure = maps;
    failure = error;
    lockedAtLimit = ownStatus("VmLck");
    break;
  }
}

const intact = buffers.filter((buffer, i) => {
  const expected = pattern(i);
  return buffer.read((bytes) => bytes.every((b, j) => b === expected[j]));
}).length;
const liveAtLimit = stats().liveBuffers - liveAtStart;

// lock: "best-effort" still gets a buffer, unlocked.
let bestEffort: Record<string, unknown>;
try {
  const extra = SecretBuffer.alloc(100, { lock: "best-effort" });
  extra.write((bytes) => bytes.fill(7));
  bestEffort = {
    ok: extra.read((bytes) => bytes.every((b) => b === 7)),
    state: extra.state,
    lockedAfter: ownStatus("VmLck"),
  };
  extra.destroy();
} catch (error) {
  bestEffort = { ok: false, error: String(error) };
}

for (const buffer of buffers) buffer.destroy();
const lockedAfterDestroy = ownStatus("VmLck");

// With the locked pages given back, a required lock works again.
let againOk = false;
try {
  SecretBuffer.alloc(32).destroy();
  againOk = true;
} catch {
  againOk = false;
}

const error = failure instanceof SecretMemoryError
  ? { code: failure.code, message: failure.message }
  : { code: null, message: String(failure) };
emit({
  pageSize: memory.pageSize,
  limitAtStart,
  limitAtEnd: memory.lockLimit(),
  lockedAtStart,
  allocated: buffers.length,
  error,
  mapsBeforeFailure: mapsBeforeFailure.length,
  mapsAfterFailure: mapsAfterFailure.length,
  failedReservations: failedReservations.map(([from, to]) =>
    `0x${from.toString(16)}-0x${to.toString(16)}`
  ),
  failedReservationsStillMapped: failedReservations.flatMap((range) =>
    overlapping(mapsAfterFailure, range)
  ),
  mappingsAdded: mapsAfterFailure.filter((l) => !mapsBeforeFailure.includes(l)),
  mappingsRemoved: mapsBeforeFailure.filter((l) =>
    !mapsAfterFailure.includes(l)
  ),
  lockedAtLimit,
  liveAtLimit,
  intact,
  bestEffort,
  lockedAfterDestroy,
  liveAtEnd: stats().liveBuffers - liveAtStart,
  againOk,
});

/** Lines of `maps` that overlap `[start, end)`. */
function overlapping(maps: string[], [start, end]: [bigint, bigint]): string[] {
  return maps.filter((line) => {
    const [from, to] = line.split(" ")[0].split("-").map((x) =>
      BigInt(`0x${x}`)
    );
    return from < end && start < to;
  });
}
