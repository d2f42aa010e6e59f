/**
 * Child for tests/hostile_racing_test.ts: a Worker changes a
 * SharedArrayBuffer in a tight loop while this thread runs the entries that
 * read a caller's bytes, many times each, and prints one JSON line with
 * every entry's outcomes.
 *
 * Jobs (first argument):
 * - `flip`: the Worker toggles every byte i of the data between `base(i)`
 *   and `base(i) ^ 0x80`, one byte at a time, with Atomics (a plain store
 *   the compiler could drop). Every byte an entry copies must be one the
 *   memory held at that index (or 0, once the entry wiped its source);
 *   a comparison with a key that differs where the Worker never writes
 *   must never say equal.
 * - `grow`: the Worker grows a growable SharedArrayBuffer one byte at a
 *   time; the entries are given length-tracking views over its tail, which
 *   lengthen while they are read. Each must copy exactly what it measured
 *   or throw a typed error.
 *
 * @module
 */

import {
  SecretBuffer,
  SecretMemoryError,
  SecretPool,
  timingSafeEqual,
} from "../../mod.ts";
import { Enclave } from "../../enclave.ts";
import { startWorker, workerOrMain } from "./_worker.ts";

interface Host {
  Deno?: { args: string[] };
  process: { argv: string[] };
  onmessage?: (event: { data: unknown }) => void;
}
const host = globalThis as unknown as Host;

/** Bytes the Worker flips; the first two bytes of a flip job it never writes. */
const SIZE = 64;
const FIXED = 2;
const ROUNDS = 300;

/** The resting value of byte `i`: varied, never 0, never 0x80. */
function base(i: number): number {
  return (i * 37 + 11) % 127 + 1;
}

/** The one message the main thread sends: the shared memory. */
interface Job {
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

async function received(): Promise<Job> {
  if (host.Deno !== undefined) {
    return await new Promise((resolve) => {
      host.onmessage = (event) => resolve(event.data as Job);
    });
  }
  const threads = await import("node:worker_threads");
  return await new Promise((resolve) =>
    threads.parentPort!.once("message", (data) => resolve(data as Job))
  );
}

async function worker(job: string, post: (message: unknown) => void) {
  const message = received();
  post("ready");
  const { data, control } = await message;
  const stop = new Int32Array(control);
  // Tells the main thread the loop runs, so that no round goes unraced.
  Atomics.store(stop, 1, 1);
  if (job === "flip") {
    const bytes = new Uint8Array(data);
    const length = bytes.length;
    while (Atomics.load(stop, 0) === 0) {
      for (let i = FIXED; i < length; i++) {
        Atomics.store(bytes, i, base(i) ^ 0x80);
        Atomics.store(bytes, i, base(i));
      }
    }
  } else {
    const max = data.maxByteLength;
    while (Atomics.load(stop, 0) === 0 && data.byteLength < max) {
      data.grow(data.byteLength + 1);
    }
  }
  post("done");
}

/** What one entry gave over all its rounds. */
interface Tally {
  ok: number;
  /** Typed errors, by code. */
  codes: Record<string, number>;
  /** Anything else thrown (a bug: never a crash, always a typed error). */
  other: string[];
  /** Answers that no state of the memory allows. */
  wrong: string[];
  /** Copies that caught the memory changed (a flipped or wiped byte). */
  raced?: number;
  /** The first message of each code. */
  messages?: Record<string, string>;
  /** For comparisons: how often each answer came. */
  answers?: { equal: number; different: number };
}

function tally(): Tally {
  return { ok: 0, codes: {}, other: [], wrong: [] };
}

async function attempt(
  into: Tally,
  body: () => void | Promise<void>,
): Promise<void> {
  try {
    await body();
    into.ok++;
  } catch (error) {
    if (error instanceof SecretMemoryError) {
      into.codes[error.code] = (into.codes[error.code] ?? 0) + 1;
      (into.messages ??= {})[error.code] ??= error.message;
    } else if (into.other.length < 3) {
      into.other.push(String(error));
    }
  }
}

/** Checks that a copy holds, at each index, a value the memory held there. */
function checkCopy(
  into: Tally,
  copy: { read<T>(fn: (b: Uint8Array) => T): T; size: number },
  offset: number,
  length: number,
) {
  if (copy.size !== length) {
    into.wrong.push(`size ${copy.size}, expected ${length}`);
    return;
  }
  copy.read((bytes) => {
    let changed = false;
    for (let i = 0; i < length; i++) {
      const value = bytes[i];
      const at = offset + i;
      if (value !== base(at)) changed = true;
      if (value !== base(at) && value !== (base(at) ^ 0x80) && value !== 0) {
        if (into.wrong.length < 3) {
          into.wrong.push(`byte ${at} was ${value}: never held there`);
        }
        return;
      }
    }
    if (changed) into.raced = (into.raced ?? 0) + 1;
  });
}

/** A ReadableStream whose BYOB reader answers with views made by `answer`. */
function hostileStream(answer: () => Uint8Array, chunks: number) {
  let left = chunks;
  class Hostile extends ReadableStream<Uint8Array> {
    override getReader(): never {
      return {
        read: () =>
          Promise.resolve(
            left-- > 0
              ? { done: false, value: answer() }
              : { done: true, value: undefined },
          ),
        cancel: () => Promise.resolve(),
        releaseLock: () => {},
      } as never;
    }
  }
  return new Hostile();
}

async function* chunksOf(answer: () => Uint8Array, count: number) {
  for (let i = 0; i < count; i++) yield answer();
}

async function raceFlip(
  data: SharedArrayBuffer,
): Promise<Record<string, Tally>> {
  const shared = new Uint8Array(data);
  const results: Record<string, Tally> = {};
  const entry = (name: string) => results[name] ??= tally();
  const short = new Uint8Array(data, FIXED, 8);
  using pool = new SecretPool();
  using open = SecretBuffer.random(32);
  // A key equal to the memory's resting state, and one that differs in a
  // byte the Worker never writes.
  const resting = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) resting[i] = base(i);
  using same = SecretBuffer.from(resting.slice());
  const other = resting.slice();
  other[0] ^= 1;
  using differs = SecretBuffer.from(other);
  const slot = pool.from(resting.slice());
  for (let round = 0; round < ROUNDS; round++) {
    // Wiped sources come back as the Worker writes; the two fixed bytes
    // are put back here, where no entry runs.
    shared[0] = base(0);
    shared[1] = base(1);
    await attempt(entry("SecretBuffer.from"), () => {
      using copy = SecretBuffer.from(shared);
      checkCopy(entry("SecretBuffer.from"), copy, 0, SIZE);
    });
    await attempt(entry("SecretBuffer.from, kept"), () => {
      using copy = SecretBuffer.from(shared, { wipeSource: false });
      checkCopy(entry("SecretBuffer.from, kept"), copy, 0, SIZE);
    });
    // A short source while a buffer is open is probed against it.
    await attempt(
      entry("SecretBuffer.from in a read scope"),
      () =>
        open.read(() => {
          using copy = SecretBuffer.from(short);
          checkCopy(entry("SecretBuffer.from in a read scope"), copy, FIXED, 8);
        }),
    );
    await attempt(entry("pool.from"), () => {
      using copy = pool.from(shared, { wipeSource: false });
      checkCopy(entry("pool.from"), copy, 0, SIZE);
    });
    shared[0] = base(0);
    shared[1] = base(1);
    for (
      const [name, compare] of [
        ["SecretBuffer.equals", (key: SecretBuffer) => key.equals(shared)],
        [
          "SecretSlot.equals",
          (key: SecretBuffer) =>
            key === same ? slot.equals(shared) : key.equals(shared),
        ],
        [
          "timingSafeEqual",
          (key: SecretBuffer) =>
            key.read((bytes) => timingSafeEqual(bytes, shared)),
        ],
      ] as const
    ) {
      const into = entry(name);
      into.answers ??= { equal: 0, different: 0 };
      await attempt(into, () => {
        if (compare(differs) && into.wrong.length < 3) {
          into.wrong.push(
            "equal to a key that differs in a byte never written",
          );
        }
        if (compare(same)) into.answers!.equal++;
        else into.answers!.different++;
      });
    }
    await attempt(entry("fromStream, chunks"), async () => {
      using copy = await SecretBuffer.fromStream(
        chunksOf(() => new Uint8Array(data, 0, SIZE), 1),
      );
      checkCopy(entry("fromStream, chunks"), copy, 0, SIZE);
    });
    shared[0] = base(0);
    shared[1] = base(1);
    await attempt(entry("fromStream, BYOB"), async () => {
      using copy = await SecretBuffer.fromStream(
        hostileStream(() => new Uint8Array(data, 0, SIZE), 1),
      );
      checkCopy(entry("fromStream, BYOB"), copy, 0, SIZE);
    });
    shared[0] = base(0);
    shared[1] = base(1);
    // Sealing makes a key and its timer: fewer rounds.
    if (round % 10 !== 0) continue;
    await attempt(entry("Enclave"), () => {
      using copy = SecretBuffer.from(shared, { wipeSource: false });
      using enclave = Enclave.seal(copy, { destroySource: false });
      using opened = enclave.open();
      if (!opened.equals(copy)) {
        entry("Enclave").wrong.push("opened differs from what was sealed");
      }
      checkCopy(entry("Enclave"), opened, 0, SIZE);
    });
  }
  slot.destroy();
  return results;
}

async function raceGrow(
  data: SharedArrayBuffer,
): Promise<Record<string, Tally>> {
  const results: Record<string, Tally> = {};
  const entry = (name: string) => results[name] ??= tally();
  // A length-tracking view over the last 8 bytes as they are now.
  const tail = () => new Uint8Array(data, Math.max(0, data.byteLength - 8));
  using pool = new SecretPool();
  using key = SecretBuffer.random(8);
  // Slots beside the ones being filled: a copy that ran past its slot
  // would land in them.
  const neighbours = Array.from(
    { length: 64 },
    (_, i) => pool.from(new Uint8Array(8 + (i % 8)).fill(0xa5)),
  );
  const sized = (into: Tally, copy: { size: number }) => {
    if (copy.size < 8 && into.wrong.length < 3) {
      into.wrong.push(`${copy.size} bytes from a view of at least 8`);
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    await attempt(entry("SecretBuffer.from"), () => {
      using copy = SecretBuffer.from(tail(), { wipeSource: false });
      sized(entry("SecretBuffer.from"), copy);
    });
    await attempt(entry("pool.from"), () => {
      using copy = pool.from(tail(), { wipeSource: false });
      sized(entry("pool.from"), copy);
    });
    await attempt(entry("SecretBuffer.equals"), () => void key.equals(tail()));
    await attempt(entry("fromStream, chunks"), async () => {
      using copy = await SecretBuffer.fromStream(chunksOf(tail, 4));
      sized(entry("fromStream, chunks"), copy);
    });
    await attempt(entry("fromStream, BYOB"), async () => {
      using copy = await SecretBuffer.fromStream(hostileStream(tail, 4));
      sized(entry("fromStream, BYOB"), copy);
    });
  }
  const intact = entry("neighbouring slots");
  for (const slot of neighbours) {
    if (!slot.read((bytes) => bytes.every((b) => b === 0xa5))) {
      intact.wrong.push("a neighbouring slot was overwritten");
    }
    slot.destroy();
  }
  intact.ok = ROUNDS;
  return results;
}

/**
 * Without a Worker: a BYOB reader whose answer is a length-tracking view
 * over a resizable ArrayBuffer, lengthened past the free space by a
 * microtask queued while the answer is read, so after the length is
 * checked and before the bytes are copied.
 */
async function resizeLate(): Promise<Record<string, Tally>> {
  const into = tally();
  for (let round = 0; round < 20; round++) {
    const buffer = new ArrayBuffer(8, { maxByteLength: 65536 });
    const stream = hostileAnswer(() => ({
      get done() {
        queueMicrotask(() => buffer.resize(65536));
        return false;
      },
      value: new Uint8Array(buffer),
    }));
    await attempt(into, async () => {
      using copy = await SecretBuffer.fromStream(stream);
      if (copy.size > 8) {
        into.wrong.push(`${copy.size} bytes kept of 8 checked`);
      }
    });
  }
  return { "fromStream, BYOB": into };
}

/** A stream whose BYOB reader gives `answer()` once, then ends. */
function hostileAnswer(answer: () => unknown) {
  let given = false;
  class Hostile extends ReadableStream<Uint8Array> {
    override getReader(): never {
      return {
        read: () =>
          Promise.resolve(
            given ? { done: true, value: undefined } : (given = true, answer()),
          ),
        cancel: () => Promise.resolve(),
        releaseLock: () => {},
      } as never;
    }
  }
  return new Hostile();
}

async function main() {
  const job = (host.Deno?.args ?? host.process.argv.slice(2))[0] ?? "flip";
  if (job === "resize") {
    const results = await resizeLate();
    console.log(JSON.stringify({ job, rounds: 20, grewTo: -1, results }));
    return;
  }
  const racer = await startWorker<string>(import.meta.url, job);
  await racer.report;
  const data = job === "flip"
    ? new SharedArrayBuffer(SIZE)
    : new SharedArrayBuffer(8, { maxByteLength: 64 * 1024 * 1024 });
  if (job === "flip") {
    const bytes = new Uint8Array(data);
    for (let i = 0; i < SIZE; i++) bytes[i] = base(i);
  }
  const control = new SharedArrayBuffer(8);
  const flags = new Int32Array(control);
  racer.send({ data, control });
  // Waits for the Worker's loop to run (without blocking this thread's loop).
  while (Atomics.load(flags, 1) === 0) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const results = job === "flip" ? await raceFlip(data) : await raceGrow(data);
  Atomics.store(flags, 0, 1);
  const raced = job === "grow" ? data.byteLength : -1;
  await racer.terminate();
  console.log(JSON.stringify({ job, rounds: ROUNDS, grewTo: raced, results }));
}

await workerOrMain(import.meta.url, worker, main);
