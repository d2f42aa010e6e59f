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
import { Bytes } from "./_intrinsics.ts";

const BATCH = 4096;

interface Batch {
  address: bigint;
  bytes: Uint8Array;
  used: number;
}

// One batch per native layer, so a test's fake never sees the real one's.
const batches = new WeakMap<NativeMemory, Batch>();

function batchFor(memory: NativeMemory): Batch {
  let batch = batches.get(memory);
  if (batch === undefined) {
    const address = memory.reserve(BATCH);
    memory.commit(address, BATCH, false);
    batch = {
      address,
      bytes: new Bytes(memory.view(address, BATCH)),
      used: BATCH,
    };
    batches.set(memory, batch);
  }
  return batch;
}

/** A fresh random canary of `CANARY_SIZE` bytes. */
export function nextCanary(memory: NativeMemory): Uint8Array {
  const batch = batchFor(memory);
  if (batch.used + CANARY_SIZE > BATCH) {
    memory.fillRandom(batch.address, BATCH);
    batch.used = 0;
  }
  const start = batch.used;
  const canary = batch.bytes.slice(start, start + CANARY_SIZE);
  // A canary handed out must not be handed out again, nor stay readable.
  batch.bytes.fill(0, start, start + CANARY_SIZE);
  batch.used += CANARY_SIZE;
  return canary;
}
