/**
 * Child for the needle test (issue 23, class 3): does `findCopies` leave
 * behind the two halves of its needle, a mask and the key XOR that mask,
 * which together give the whole key?
 *
 * Argument 1: `findCopies` (call it once on a guarded key) or `none` (the
 * control: never call it). Then it searches this process's present pages
 * for PAIRS: two 32-byte runs anywhere in the writable or anonymous
 * mappings whose XOR is the key (no window: Deno's typed arrays live in
 * malloc'ed memory, where two made one after the other were seen 360 KiB
 * apart). A plain copy of the key with 32 zero bytes anywhere is such a
 * pair too.
 *
 * The search holds no key material on the heap: the key stays in its
 * SecretBuffer, open read-only while its pairs are counted, and is compared
 * through that view; the memory searched is copied to native pages mapped
 * for it, outside the heap. A second guarded key, the control, is planted
 * as a pair on the heap on purpose (two arrays whose XOR is it), and must
 * be found: the search can see. Runs are looked for at every 4-byte-aligned
 * start, where all three runtimes place the bytes of a typed array.
 *
 * Prints one JSON line: `{ mode, pairs, controlPairs, copies, scannedBytes }`.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { findCopies } from "../../forensics.ts";
import { native } from "../../src/core/_native.ts";
import { readMaps, withScratch } from "../../src/doctor/_procfs.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const mode = (host.Deno?.args ?? host.process.argv.slice(2))[0];

const SIZE = 32;
const ALIGN = 4;

const key = SecretBuffer.random(SIZE);
const control = SecretBuffer.random(SIZE);

// The control pair, made on the heap on purpose and kept alive: a random
// mask, and the control key XOR it, formed byte by byte. Both arrays are
// made before either is filled, so they lie side by side as a needle's do.
const plantedMask = new Uint8Array(SIZE);
const plantedMasked = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) {
  plantedMask[i] = 1 + Math.floor(Math.random() * 255);
}
control.read((bytes) => {
  for (let i = 0; i < SIZE; i++) plantedMasked[i] = bytes[i] ^ plantedMask[i];
});

let copies = -1;
if (mode === "findCopies") copies = findCopies(key).copies;
else if (mode !== "none") throw new Error(`unknown mode ${mode}`);

const memory = native();
const page = memory.pageSize;

/** Whether [start, end) holds a guarded buffer the search must not read. */
const guarded = (start: bigint, end: bigint) =>
  [key, control].some((b) => b.address < end && start < b.address + 32n);

/** Runs of present (or swapped) pages in [start, end), via pagemap. */
function presentRuns(
  pagemap: number,
  start: bigint,
  end: bigint,
  scratch: { address: bigint; view: Uint8Array },
  room: number,
): [bigint, bigint][] {
  const runs: [bigint, bigint][] = [];
  const first = Number(start / BigInt(page));
  const pages = Number((end - start) / BigInt(page));
  const perRead = room / 8;
  let runStart = -1;
  for (let done = 0; done < pages; done += perRead) {
    const count = Math.min(perRead, pages - done);
    const got = memory.readInto(
      pagemap,
      scratch.address,
      count * 8,
      (first + done) * 8,
    );
    for (let i = 0; i < count; i++) {
      const present = i * 8 < got && (scratch.view[i * 8 + 7] & 0xc0) !== 0;
      if (present && runStart < 0) runStart = done + i;
      if (!present && runStart >= 0) {
        runs.push([
          start + BigInt(runStart * page),
          start + BigInt((done + i) * page),
        ]);
        runStart = -1;
      }
    }
  }
  if (runStart >= 0) {
    runs.push([start + BigInt(runStart * page), end]);
  }
  return runs;
}

/** A present run of pages, and where its copy starts in the area. */
interface Segment {
  start: bigint;
  end: bigint;
  at: number;
}

// Survey first: every present run of the mappings searched, before the
// area that receives them is mapped.
const maps = readMaps();
const pagemap = memory.openRead("/proc/self/pagemap");
const mem = memory.openRead("/proc/self/mem");
const segments: Segment[] = [];
let total = 0;
try {
  withScratch((scratch) => {
    const own = [scratch.address, scratch.address + BigInt(scratch.size)];
    for (const entry of maps) {
      if (entry.perms[0] !== "r" || entry.path.startsWith("[v")) continue;
      // A file mapped without write holds that file's bytes, made before
      // this process ran: no run-time data.
      const anonymous = entry.path === "" || entry.path.startsWith("[");
      if (!anonymous && entry.perms[1] !== "w") continue;
      if (guarded(entry.start, entry.end)) continue;
      if (entry.start < own[1] && own[0] < entry.end) continue;
      const runs = presentRuns(
        pagemap,
        entry.start,
        entry.end,
        scratch,
        scratch.size,
      );
      for (const [start, end] of runs) {
        segments.push({ start, end, at: total });
        total += Number(end - start);
      }
    }
  });
} catch (error) {
  memory.close(pagemap);
  memory.close(mem);
  throw error;
}

// The copies go to native memory of the library's own making, outside
// the heap, never locked; the searched mappings were listed before it.
const areaSize = Math.ceil((total + 1) / page) * page;
const area = memory.reserve(areaSize);
memory.commit(area, areaSize, false);
const bytes = new Uint8Array(memory.view(area, areaSize));
let scannedBytes = 0;
try {
  for (const segment of segments) {
    const want = Number(segment.end - segment.start);
    let got = 0;
    try {
      while (got < want) {
        const n = memory.readInto(
          mem,
          area + BigInt(segment.at + got),
          want - got,
          Number(segment.start) + got,
        );
        if (n === 0) break;
        got += n;
      }
    } catch {
      // A page unmapped meanwhile: keep what was read.
    }
    segment.end = segment.start + BigInt(got);
    scannedBytes += got;
  }
} finally {
  memory.close(pagemap);
  memory.close(mem);
}

/**
 * Every aligned run, indexed by its first three bytes; then, for each run,
 * the runs whose first three bytes are its own XOR the key's, checked to
 * the last byte. Each pair is counted once (the later run as the partner).
 */
const head = new Int32Array(1 << 24).fill(-1);
const next = new Int32Array(Math.ceil(total / ALIGN)).fill(-1);
const prefix = (at: number) =>
  bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16;
for (const { start, end, at } of segments) {
  const last = at + Number(end - start) - SIZE;
  for (let p = last - (last - at) % ALIGN; p >= at; p -= ALIGN) {
    const slot = p / ALIGN;
    const value = prefix(p);
    next[slot] = head[value];
    head[value] = slot;
  }
}

/** Pairs whose XOR is `k`, up to `LIMIT` (a plain copy beside zeros is many). */
const LIMIT = 1000;
function pairsOf(k: Uint8Array): number {
  const k24 = k[0] | k[1] << 8 | k[2] << 16;
  let found = 0;
  for (const { start, end, at } of segments) {
    const last = at + Number(end - start) - SIZE;
    for (let p = at; p <= last; p += ALIGN) {
      for (let slot = head[prefix(p) ^ k24]; slot >= 0; slot = next[slot]) {
        const q = slot * ALIGN;
        if (q <= p) continue;
        let same = true;
        for (let j = 3; j < SIZE && same; j++) {
          same = (bytes[p + j] ^ bytes[q + j]) === k[j];
        }
        if (same && ++found >= LIMIT) return found;
      }
    }
  }
  return found;
}

const pairs = key.read(pairsOf);
const controlPairs = control.read(pairsOf);
memory.wipe(area, areaSize);
// Detached before the pages go: no view of ours outlives them.
bytes.buffer.transfer(0);
memory.release(area, areaSize);

console.log(
  JSON.stringify({ mode, pairs, controlPairs, copies, scannedBytes }),
);
key.destroy();
control.destroy();
plantedMask.fill(0);
plantedMasked.fill(0);
