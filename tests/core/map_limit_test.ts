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
  /** What each file holds now; a missing one cannot be read. */
  files: Map<string, string>;
  /** The paths read, in order. */
  opened: string[];
}

/**
 * The native layer's one /proc reader (`procText`, ffi/procfs.ts) over
 * `files`: the reader's own pages and descriptors are proved in
 * tests/map_limit_test.ts against the real one.
 */
function procfs(os: "linux" | "darwin" = "linux"): Procfs {
  const fake = createFake();
  const files = new Map<string, string>();
  const opened: string[] = [];
  // Only Linux's native layer has the reader (macOS and Windows have no
  // /proc to read).
  const memory: NativeMemory = { ...fake.memory, os, procText: undefined };
  if (os !== "linux") return { memory, files, opened };
  memory.procText = (path) => {
    opened.push(path);
    const text = files.get(path);
    if (text === undefined) throw new Error(`fake: cannot open ${path}`);
    return text;
  };
  return { memory, files, opened };
}

const lines = (count: number): string =>
  "7f00-7f01 r--p 0 0:0 0\n".repeat(count);

async function mapLimit(): Promise<MapLimit> {
  return await fresh<MapLimit>([
    "_map_limit.ts",
    "errors.ts",
    "_process_table.ts",
    "_quarantine.ts",
    "_intrinsics.ts",
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

test("far from the limit: one read, then the next threshold is far off; the next threshold is set from the room left", async () => {
  const m = await mapLimit();
  const p = procfs();
  p.files.set(MAX_MAP_COUNT, "65530\n");
  p.files.set(MAPS, lines(1000));
  hold(m, 512);
  m.checkMapHeadroom(p.memory);
  assert.equal(p.opened.length, 2);
  // room = 65530 - 8191 - 1000 = 56339: the next look is room / 6 away.
  hold(m, 9000);
  m.checkMapHeadroom(p.memory);
  assert.equal(p.opened.length, 2, "not read again so soon");
  hold(m, 500);
  m.checkMapHeadroom(p.memory);
  assert.deepEqual(p.opened.slice(2), [MAPS], "the limit is read once");
});

test("near the limit: MAP_LIMIT names the count and the limit, and it looks again at the next call", async () => {
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

  const darwin = await mapLimit();
  const d = procfs("darwin");
  hold(darwin, 10000);
  darwin.checkMapHeadroom(d.memory);
  assert.deepEqual(d.opened, []);
});

test("a read of the maps that fails is not the caller's error: it counts none, and is read again later", async () => {
  const m = await mapLimit();
  const p = procfs();
  p.files.set(MAX_MAP_COUNT, "65530\n");
  hold(m, 512);
  // No maps file: counted as 0 mappings (the count fails open, as the
  // kernel's own mmap still refuses at the real limit).
  m.checkMapHeadroom(p.memory);
  assert.deepEqual(p.opened, [MAX_MAP_COUNT, MAPS]);
  p.files.set(MAPS, lines(57337));
  hold(m, 60000);
  assert.throws(() => m.checkMapHeadroom(p.memory), /holds 57337/);
});
