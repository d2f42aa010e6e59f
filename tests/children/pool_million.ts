/**
 * Child for the million-secret test: fills one pool with COUNT random
 * 32-byte secrets (argument, default 1,000,000), checks a sample of 10,000,
 * destroys them all, and prints one JSON line: VmLck and the map count at
 * the start, the peak and the end, and what the checks found.
 *
 * The sample is checked against copies recorded at allocation time under a
 * random mask, so this process never holds a secret in the heap.
 *
 * @module
 */

import { SecretPool, type SecretSlot } from "../../mod.ts";
import { parseMaps, readProcText } from "../../src/doctor/_procfs.ts";
import { ownStatus } from "../_forensics.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const count = Number(host.Deno?.args[0] ?? host.process.argv[2] ?? 1_000_000);
const SAMPLE = Math.min(10_000, count);
const SIZE = 32;

function mapCount(): number {
  return readProcText("/proc/self/maps").split("\n").filter((l) => l !== "")
    .length;
}

/**
 * VMAs with VmFlags `dd` and `wf`: secmem's data pages. (`wf` alone is not
 * enough: BoringSSL in Bun keeps a wipe-on-fork page of its own.)
 */
function securedMaps(): number {
  return parseMaps(readProcText("/proc/self/smaps")).filter((e) =>
    e.flags.includes("wf") && e.flags.includes("dd")
  ).length;
}

function measure() {
  return {
    vmLck: ownStatus("VmLck"),
    maps: mapCount(),
    securedMaps: securedMaps(),
  };
}

const pool = new SecretPool();
// The pool keeps one empty arena per class: make it before measuring.
pool.alloc(SIZE).destroy();
const start = measure();

const mask = crypto.getRandomValues(new Uint8Array(SIZE));
const step = Math.floor(count / SAMPLE);
const recorded: Uint8Array[] = [];
const masked = (bytes: Uint8Array) => bytes.map((b, i) => b ^ mask[i]);

let slots: SecretSlot[] = new Array(count);
const began = performance.now();
for (let i = 0; i < count; i++) {
  const slot = pool.random(SIZE);
  slots[i] = slot;
  if (i % step === 0 && recorded.length < SAMPLE) {
    recorded.push(slot.read(masked));
  }
}
const allocMs = performance.now() - began;
const peak = { ...measure(), stats: pool.stats() };

// The sample: content unchanged since it was written, all distinct, and
// each differs from the slots on either side of it.
let verified = 0;
let neighboursDiffer = 0;
const distinct = new Set<string>();
for (let s = 0; s < recorded.length; s++) {
  const index = s * step;
  const slot = slots[index];
  const now = slot.read(masked);
  if (now.every((b, i) => b === recorded[s][i])) verified++;
  distinct.add(
    Array.from(now, (b) => b.toString(16).padStart(2, "0")).join(""),
  );
  const left = slots[index - 1] ?? slots[index + 1];
  const right = slots[index + 1] ?? slots[index - 1];
  if (!slot.equals(left) && !slot.equals(right)) neighboursDiffer++;
}

let corrupted = 0;
const freeing = performance.now();
for (const slot of slots) {
  try {
    slot.destroy();
  } catch {
    corrupted++;
  }
}
const freeMs = performance.now() - freeing;
slots = [];
// Give the runtime a chance to return the heap that held a million
// handles, so the map count shows the pool's own mappings are gone.
const collect = (globalThis as { gc?: () => void }).gc ??
  (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc.bind(
    undefined,
    true,
  );
for (let i = 0; i < 5; i++) {
  collect?.();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const end = {
  ...measure(),
  stats: pool.stats(),
  collected: collect !== undefined,
};

console.log(JSON.stringify({
  count,
  start,
  peak,
  end,
  sample: recorded.length,
  verified,
  distinct: distinct.size,
  neighboursDiffer,
  corrupted,
  allocMs: Math.round(allocMs),
  freeMs: Math.round(freeMs),
}));
