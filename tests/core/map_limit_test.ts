/**
 * The headroom under vm.max_map_count (src/core/_map_limit.ts), over a fake
 * procfs: when the real count is read, what is refused, and that the
 * scratch pages and descriptors of every read are given back. Each test
 * has a private instance of the module (and of the process table it
 * counts with), so its thresholds start fresh.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { NativeMemory } from "../../src/core/_native.ts";
import { createFake } from "../_fake_native.ts";
import { test } from "../_harness.ts";
import { fresh } from "./_fresh.ts";

type MapLimit = typeof import("../../src/core/_map_limit.ts");

const MAX_MAP_COUNT = "/proc/sys/vm/max_map_count";
const MAPS = "/proc/self/maps";

interface Procfs {
  memory: NativeMemory;
  /** What each file holds now; a missing one cannot be opened. */
  files: Map<string, string>;
  opened: string[];
  /** Descriptors open now. */
  open: Set<number>;
  /** Bytes mapped now (scratch pages). */
  mapped(): number;
}

function procfs(os: "linux" | "darwin" = "linux"): Procfs {
  const fake = createFake();
  const files = new Map<string, string>();
  const opened: string[] = [];
  const open = new Set<number>();
  const reading = new Map<number, { bytes: Uint8Array; at: number }>();
  const views = new Map<bigint, ArrayBuffer>();
  let nextFd = 10;
  const memory: NativeMemory = {
    ...fake.memory,
    os,
    // The module reads what readInto wrote through the view it made first:
    // here both are the same bytes.
    view(address, length) {
      const buffer = new ArrayBuffer(length);
      views.set(address, buffer);
      return buffer;
    },
    openRead(path) {
      opened.push(path);
      const text = files.get(path);
      if (text === undefined) throw new Error(`fake: cannot open ${path}`);
      const fd = nextFd++;
      open.add(fd);
      reading.set(fd, { bytes: new TextEncoder().encode(text), at: 0 });
      return fd;
    },
    readInto(fd, address, length) {
      const file = reading.get(fd);
      const view = views.get(address);
      if (file === undefined || view === undefined || view.detached) {
        throw new Error("fake: bad read");
      }
      // Short reads, as procfs gives: at most one "page" of text at a time.
      const count = Math.min(length, 4000, file.bytes.length - file.at);
      new Uint8Array(view).set(file.bytes.subarray(file.at, file.at + count));
      file.at += count;
      return count;
    },
    close(fd) {
      if (!open.delete(fd)) throw new Error(`fake: close of ${fd}`);
    },
  };
  return { memory, files, opened, open, mapped: fake.mapped };
}

const lines = (count: number): string =>
  "7f00-7f01 r--p 0 0:0 0\n".repeat(count);

async function mapLimit(): Promise<MapLimit> {
  return await fresh<MapLimit>([
    "_map_limit.ts",
    "errors.ts",
    "_process_table.ts",
    "_quarantine.ts",
  ]);
}

function hold(module: MapLimit, count: number): void {
  for (let i = 0; i < count; i++) module.mappingHeld();
}

test("the real count is not read while few mappings are held", async () => {
  const m = await mapLimit();
  const p = procfs();
  p.files.set(MAX_MAP_COUNT, "65530\n");
  p.files.set(MAPS, lines(100));
  hold(m, 511);
  m.checkMapHeadroom(p.memory);
  assert.deepEqual(p.opened, []);
  hold(m, 1);
  m.checkMapHeadroom(p.memory);
  assert.deepEqual(p.opened, [MAX_MAP_COUNT, MAPS]);
});

test("far from the limit: one read, then the next threshold is far off; every read gives back its pages and descriptor", async () => {
  const m = await mapLimit();
  const p = procfs();
  p.files.set(MAX_MAP_COUNT, "65530\n");
  p.files.set(MAPS, lines(1000));
  hold(m, 512);
  m.checkMapHeadroom(p.memory);
  assert.equal(p.opened.length, 2);
  assert.equal(p.open.size, 0);
  assert.equal(p.mapped(), 0);
  // room = 65530 - 8191 - 1000 = 56339: the next look is room / 6 away.
  hold(m, 9000);
  m.checkMapHeadroom(p.memory);
  assert.equal(p.opened.length, 2, "not read again so soon");
  hold(m, 500);
  m.checkMapHeadroom(p.memory);
  assert.deepEqual(p.opened.slice(2), [MAPS], "the limit is read once");
});

test("near the limit: MAP_LIMIT names the count and the limit, nothing stays open, and it looks again at the next call", async () => {
  const m = await mapLimit();
  const p = procfs();
  p.files.set(MAX_MAP_COUNT, "65530");
  // The runtime's share is max(4096, 65530 / 8) = 8191; room for one more
  // region (3 mappings) needs at most 65530 - 8191 - 3 = 57336 mappings.
  p.files.set(MAPS, lines(57337));
  hold(m, 512);
  let caught: unknown;
  try {
    m.checkMapHeadroom(p.memory);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, "refused");
  assert.equal((caught as { code?: string }).code, "MAP_LIMIT");
  assert.equal(caught.name, "SecretMemoryError");
  assert.match(caught.message, /holds 57337 memory mappings/);
  assert.match(caught.message, /vm\.max_map_count is 65530/);
  assert.match(caught.message, /keeps 8191 free/);
  assert.equal(p.open.size, 0);
  assert.equal(p.mapped(), 0);

  // Mappings were given back meanwhile: the very next call looks again.
  p.files.set(MAPS, lines(57336));
  const reads = p.opened.length;
  m.checkMapHeadroom(p.memory);
  assert.equal(p.opened.length, reads + 1);
});

test("where the limit cannot be read, or off Linux, the count is never read", async () => {
  const unreadable = await mapLimit();
  const p = procfs();
  p.files.set(MAPS, lines(60000));
  hold(unreadable, 512);
  unreadable.checkMapHeadroom(p.memory);
  hold(unreadable, 5000);
  unreadable.checkMapHeadroom(p.memory);
  assert.deepEqual(p.opened, [MAX_MAP_COUNT]);

  const garbled = await mapLimit();
  const g = procfs();
  g.files.set(MAX_MAP_COUNT, "unlimited\n");
  g.files.set(MAPS, lines(60000));
  hold(garbled, 512);
  garbled.checkMapHeadroom(g.memory);
  assert.deepEqual(g.opened, [MAX_MAP_COUNT]);
  assert.equal(g.open.size, 0);

  const darwin = await mapLimit();
  const d = procfs("darwin");
  hold(darwin, 10000);
  darwin.checkMapHeadroom(d.memory);
  assert.deepEqual(d.opened, []);
});

test("a read that fails half way gives back its pages and descriptor", async () => {
  const m = await mapLimit();
  const p = procfs();
  p.files.set(MAX_MAP_COUNT, "65530\n");
  p.files.set(MAPS, lines(100));
  let reads = 0;
  const memory: NativeMemory = {
    ...p.memory,
    readInto(fd, address, length) {
      // The limit's two reads (its text, then end of file) pass; the
      // first read of the maps fails.
      if (++reads === 3) throw new Error("fake: EIO");
      return p.memory.readInto(fd, address, length);
    },
  };
  hold(m, 512);
  m.checkMapHeadroom(memory);
  assert.equal(p.opened.length, 2);
  assert.equal(p.open.size, 0);
  assert.equal(p.mapped(), 0);
});
