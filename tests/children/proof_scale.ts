/**
 * Child for the scale proof: `cycles` alloc/destroy cycles, then `live`
 * buffers held at once and all destroyed, with locked memory and mapping
 * counts before and after each phase, printed as one JSON line.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import { emit, ownMaps, ownStatus, wipeOnForkMappings } from "../_forensics.ts";

const args = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : (globalThis as unknown as { process: { argv: string[] } }).process.argv
    .slice(2);
const cycles = Number(args[0]);
const live = Number(args[1]);

interface Snapshot {
  vmLck: number;
  maps: number;
  secmemMaps: number;
  liveBuffers: number;
  lockedBytes: number;
}

function snapshot(): Snapshot {
  return {
    vmLck: ownStatus("VmLck"),
    maps: ownMaps().length,
    secmemMaps: wipeOnForkMappings(),
    liveBuffers: stats().liveBuffers,
    lockedBytes: stats().lockedBytes,
  };
}

SecretBuffer.alloc(32).destroy();
const beforeCycles = snapshot();
let started = performance.now();
for (let i = 0; i < cycles; i++) SecretBuffer.alloc(32).destroy();
const cyclesMs = performance.now() - started;
const afterCycles = snapshot();

started = performance.now();
const buffers: SecretBuffer[] = [];
for (let i = 0; i < live; i++) buffers.push(SecretBuffer.alloc(32));
const allocMs = performance.now() - started;
const atPeak = snapshot();
started = performance.now();
for (const buffer of buffers) buffer.destroy();
const destroyMs = performance.now() - started;
const afterLive = snapshot();

emit({
  cycles,
  cyclesMs: Math.round(cyclesMs),
  beforeCycles,
  afterCycles,
  live,
  allocMs: Math.round(allocMs),
  destroyMs: Math.round(destroyMs),
  atPeak,
  afterLive,
});
