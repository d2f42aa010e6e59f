/**
 * Random canaries, drawn from the OS generator in batches so that a new
 * buffer costs no extra system call: one getrandom(2) serves 256 buffers.
 * The batch sits in its own small mapping, outside the garbage-collected
 * heap; each buffer keeps its expected canary to compare against.
 *
 * @module
 */

import { CANARY_SIZE } from "./_layout.ts";
import type { NativeMemory } from "./_native.ts";

const BATCH = 4096;

let batchAddress = 0n;
let batch: Uint8Array | undefined;
let used = BATCH;

/** A fresh random canary of `CANARY_SIZE` bytes. */
export function nextCanary(memory: NativeMemory): Uint8Array {
  if (batch === undefined) {
    const reservation = memory.reserve(BATCH);
    memory.commit(reservation, BATCH, false);
    batchAddress = reservation;
    batch = new Uint8Array(memory.view(reservation, BATCH));
  }
  if (used + CANARY_SIZE > BATCH) {
    memory.fillRandom(batchAddress, BATCH);
    used = 0;
  }
  const canary = batch.slice(used, used + CANARY_SIZE);
  // A canary handed out must not be handed out again, nor stay readable.
  batch.fill(0, used, used + CANARY_SIZE);
  used += CANARY_SIZE;
  return canary;
}
