/**
 * Property-based test (fast-check): random sequences of alloc, from,
 * random, read, write, protect, equals, destroy, nested scopes and
 * throwing callbacks, run against a model. After every step each buffer's
 * state, size and contents match the model, and stats() matches the live
 * set; after every run everything is destroyed, stats() is back to its
 * start and no buffer's address is mapped any more (/proc/self/maps).
 *
 * @module
 */

import fc from "fast-check";
import {
  SecretBuffer,
  type SecretBufferState,
  SecretMemoryError,
  SecretPool,
  stats,
  timingSafeEqual,
} from "../mod.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "./_error_code.ts";
import { layoutFor } from "../src/core/_layout.ts";
import { native } from "../src/core/_native.ts";
import { env, ownMaps, ownSmaps, say } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

type Protection = "noaccess" | "readonly" | "readwrite";
type Placement = "end" | "start";
type Lock = "required" | "best-effort";

type Op =
  | { kind: "alloc"; size: number; placement: Placement; lock: Lock }
  | { kind: "from"; bytes: Uint8Array; wipe: boolean }
  | { kind: "random"; size: number }
  | { kind: "read"; target: number }
  | { kind: "write"; target: number; offset: number; bytes: Uint8Array }
  | { kind: "protect"; target: number; state: Protection }
  | { kind: "equals"; a: number; b: number }
  | { kind: "equalsBytes"; a: number; same: boolean }
  | { kind: "destroy"; target: number }
  | {
    kind: "scope";
    scope: "read" | "write";
    target: number;
    inner: Op[];
    throws: boolean;
  };

/** One buffer as the model sees it; `content` is null once destroyed. */
interface Entry {
  buffer: SecretBuffer;
  size: number;
  content: Uint8Array | null;
  base: Protection;
  readers: number;
  writers: number;
  address: bigint;
}

const RANK: Record<Protection, number> = {
  noaccess: 0,
  readonly: 1,
  readwrite: 2,
};

function expectedState(entry: Entry): SecretBufferState {
  if (entry.content === null) return "destroyed";
  const scoped: Protection = entry.writers > 0
    ? "readwrite"
    : entry.readers > 0
    ? "readonly"
    : "noaccess";
  return RANK[scoped] >= RANK[entry.base] ? scoped : entry.base;
}

/**
 * Fails if a buffer's data page is still mapped at any of `addresses`.
 * The runtime may map memory of its own into a freed hole at once, so a
 * mapping there only counts if it carries secmem's wipe-on-fork flag.
 */
function assertUnmapped(addresses: readonly bigint[]): void {
  const maps = ownMaps();
  const covered = addresses.filter((address) =>
    maps.some((m) => m.start <= address && address < m.end)
  );
  if (covered.length === 0) return;
  const smaps = ownSmaps();
  for (const address of covered) {
    const at = smaps.find((m) => m.start <= address && address < m.end);
    assert(
      at === undefined || !at.flags.includes("wf"),
      `0x${address.toString(16)} is still a secmem data page (${at?.perms} ${
        at?.flags.join(" ")
      })`,
    );
  }
}

/** Thrown by callbacks that the property makes fail on purpose. */
class Planned extends Error {}

const size = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 9000 }),
);
const target = fc.nat({ max: 15 });
const leaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("alloc" as const),
    size,
    placement: fc.constantFrom<Placement>("end", "start"),
    lock: fc.constantFrom<Lock>("required", "best-effort"),
  }),
  fc.record({
    kind: fc.constant("from" as const),
    bytes: fc.uint8Array({ maxLength: 80 }),
    wipe: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("random" as const), size }),
  fc.record({ kind: fc.constant("read" as const), target }),
  fc.record({
    kind: fc.constant("write" as const),
    target,
    offset: fc.nat({ max: 10_000 }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant("protect" as const),
    target,
    state: fc.constantFrom<Protection>("noaccess", "readonly", "readwrite"),
  }),
  fc.record({ kind: fc.constant("equals" as const), a: target, b: target }),
  fc.record({
    kind: fc.constant("equalsBytes" as const),
    a: target,
    same: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("destroy" as const), target }),
);
const { op } = fc.letrec<{ op: Op; scope: Op }>((tie) => ({
  op: fc.oneof({ maxDepth: 2, depthIdentifier: "scope" }, leaf, tie("scope")),
  scope: fc.record({
    kind: fc.constant("scope" as const),
    scope: fc.constantFrom<"read" | "write">("read", "write"),
    target,
    inner: fc.array(tie("op"), { maxLength: 4, depthIdentifier: "scope" }),
    throws: fc.boolean(),
  }),
}));

const STEPS = 24;

const RUNS = Number(env("SECMEM_FUZZ_RUNS") ?? 10_000);
/** Printed with the figures; set SECMEM_FUZZ_SEED to replay a run. */
const SEED = Number(env("SECMEM_FUZZ_SEED") ?? (Date.now() % 2 ** 31));

/** Runs one sequence against the model; returns how many ops ran. */
function runSequence(ops: Op[]): number {
  const entries: Entry[] = [];
  const start = stats();
  let performed = 0;

  const pick = (index: number): Entry | undefined =>
    entries.length === 0 ? undefined : entries[index % entries.length];

  function add(buffer: SecretBuffer, content: Uint8Array): void {
    entries.push({
      buffer,
      size: content.length,
      content,
      base: "noaccess",
      readers: 0,
      writers: 0,
      address: buffer.address,
    });
  }

  function writeRefused(entry: Entry): boolean {
    return entry.readers > 0 && entry.writers === 0;
  }

  function perform(op: Op): void {
    performed++;
    switch (op.kind) {
      case "alloc": {
        const buffer = SecretBuffer.alloc(op.size, {
          placement: op.placement,
          lock: op.lock,
        });
        add(buffer, new Uint8Array(op.size));
        return;
      }
      case "from": {
        const source = op.bytes.slice();
        const buffer = SecretBuffer.from(source, { wipeSource: op.wipe });
        assert.deepEqual(
          source,
          op.wipe ? new Uint8Array(source.length) : op.bytes,
          "source after from()",
        );
        add(buffer, op.bytes.slice());
        return;
      }
      case "random": {
        const buffer = SecretBuffer.random(op.size);
        add(buffer, buffer.read((view) => view.slice()));
        return;
      }
      case "read":
      case "write": {
        const entry = pick(op.target);
        if (entry === undefined) return;
        if (entry.content === null) {
          assertThrowsCode(() => entry.buffer[op.kind](() => 0), "DESTROYED");
          return;
        }
        if (op.kind === "write" && writeRefused(entry)) {
          assertThrowsCode(() => entry.buffer.write(() => 0), "ACCESS_DENIED");
          return;
        }
        const content = entry.content;
        const counter = op.kind === "write" ? "writers" : "readers";
        entry.buffer[op.kind]((view) => {
          entry[counter]++;
          try {
            assert.deepEqual(
              entry.buffer.state,
              expectedState(entry),
              "state in scope",
            );
            assert.deepEqual(view, content, "contents in scope");
            if (op.kind === "write" && entry.size > 0) {
              const at = op.offset % entry.size;
              const patch = op.bytes.subarray(0, entry.size - at);
              view.set(patch, at);
              content.set(patch, at);
            }
          } finally {
            entry[counter]--;
          }
        });
        return;
      }
      case "protect": {
        const entry = pick(op.target);
        if (entry === undefined) return;
        if (entry.content === null) {
          assertThrowsCode(() => entry.buffer.protect(op.state), "DESTROYED");
          return;
        }
        entry.buffer.protect(op.state);
        entry.base = op.state;
        return;
      }
      case "equals": {
        const a = pick(op.a);
        const b = pick(op.b);
        if (a === undefined || b === undefined) return;
        if (a.content === null || b.content === null) {
          assertThrowsCode(() => a.buffer.equals(b.buffer), "DESTROYED");
          return;
        }
        const same = a.content.length === b.content.length &&
          a.content.every((v, i) => v === b.content![i]);
        assert.deepEqual(a.buffer.equals(b.buffer), same, "equals");
        return;
      }
      case "equalsBytes": {
        const a = pick(op.a);
        if (a === undefined) return;
        if (a.content === null) {
          assertThrowsCode(
            () => a.buffer.equals(new Uint8Array(1)),
            "DESTROYED",
          );
          return;
        }
        const bytes = a.content.length === 0
          ? new Uint8Array(op.same ? 0 : 1)
          : a.content.slice();
        if (!op.same && bytes.length > 0) bytes[0] ^= 0xff;
        assert.deepEqual(a.buffer.equals(bytes), op.same, "equals(bytes)");
        return;
      }
      case "destroy": {
        const entry = pick(op.target);
        if (entry === undefined) return;
        entry.buffer.destroy();
        entry.content = null;
        return;
      }
      case "scope": {
        const entry = pick(op.target);
        if (entry === undefined) return;
        if (entry.content === null) {
          assertThrowsCode(() => entry.buffer[op.scope](() => 0), "DESTROYED");
          return;
        }
        if (op.scope === "write" && writeRefused(entry)) {
          assertThrowsCode(() => entry.buffer.write(() => 0), "ACCESS_DENIED");
          return;
        }
        const counter = op.scope === "write" ? "writers" : "readers";
        const planned = new Planned("planned failure");
        let thrown: unknown;
        try {
          entry.buffer[op.scope]((view) => {
            entry[counter]++;
            try {
              assert.deepEqual(
                entry.buffer.state,
                expectedState(entry),
                "state in scope",
              );
              assert.deepEqual(view, entry.content, "contents in scope");
              for (const inner of op.inner) perform(inner);
              if (entry.content === null) {
                assert.deepEqual(
                  view.byteLength,
                  0,
                  "view after destroy in its own scope",
                );
              } else {
                assert.deepEqual(
                  view,
                  entry.content,
                  "contents after inner steps",
                );
              }
            } finally {
              entry[counter]--;
            }
            if (op.throws) throw planned;
          });
        } catch (error) {
          thrown = error;
        }
        if (thrown instanceof assert.AssertionError) throw thrown;
        assert(
          op.throws ? thrown === planned : thrown === undefined,
          `scope ended with ${String(thrown)}`,
        );
        return;
      }
    }
  }

  function checkInvariants(): void {
    let live = 0;
    let userBytes = 0;
    let mappedBytes = 0;
    for (const entry of entries) {
      assert.deepEqual(entry.buffer.state, expectedState(entry), "state");
      assert.deepEqual(entry.buffer.size, entry.size, "size");
      if (entry.content === null) continue;
      live++;
      userBytes += entry.size;
      mappedBytes += layoutFor(entry.size, native().pageSize, "end").total;
      const content = entry.content;
      entry.buffer.read((view) => assert.deepEqual(view, content, "contents"));
    }
    const now = stats();
    assert.deepEqual(
      now.liveBuffers - start.liveBuffers,
      live,
      "stats().liveBuffers",
    );
    assert.deepEqual(
      now.userBytes - start.userBytes,
      userBytes,
      "stats().userBytes",
    );
    assert.deepEqual(
      now.mappedBytes - start.mappedBytes,
      mappedBytes,
      "stats().mappedBytes",
    );
  }

  try {
    for (const step of ops) {
      perform(step);
      checkInvariants();
    }
  } finally {
    for (const entry of entries) entry.buffer.destroy();
  }
  assert.deepEqual(
    stats().liveBuffers,
    start.liveBuffers,
    "live buffers after the run",
  );
  assert.deepEqual(
    stats().lockedBytes,
    start.lockedBytes,
    "locked bytes after the run",
  );
  assertUnmapped(entries.map((entry) => entry.address));
  return performed;
}

test(
  `fast-check: ${RUNS.toLocaleString("en")} random sequences against a model`,
  () => {
    let performed = 0;
    let sequences = 0;
    const started = performance.now();
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: STEPS, size: "max" }),
        (ops) => {
          sequences++;
          performed += runSequence(ops);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    say(
      `  ${
        sequences.toLocaleString("en")
      } sequences of up to ${STEPS} steps (scopes nest up to 2 deep, up to 4 steps each):` +
        ` ${
          performed.toLocaleString("en")
        } operations, invariants after every step, in ${seconds} s`,
    );
  },
  { skip: linuxOnly },
);

/** One async scope of the concurrent property. */
interface AsyncScope {
  scope: "read" | "write";
  target: number;
  /** Ticks to wait: 0-2 microtasks, or 3 for a timer. */
  waits: number[];
  patch: Uint8Array;
  destroyInside: boolean;
  throws: boolean;
}

const asyncScope: fc.Arbitrary<AsyncScope> = fc.record({
  scope: fc.constantFrom<"read" | "write">("read", "write"),
  target: fc.nat({ max: 7 }),
  waits: fc.array(fc.nat({ max: 3 }), { maxLength: 3 }),
  patch: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  destroyInside: fc.boolean(),
  throws: fc.boolean(),
});

const ASYNC_RUNS = Math.max(1, Math.round(RUNS / 5));
let refused = 0;

function pause(kind: number): Promise<void> {
  return kind === 3
    ? new Promise((resolve) => setTimeout(resolve, 0))
    : Promise.resolve();
}

/**
 * Runs up to 4 async scopes at once over a few buffers. Scopes interleave,
 * so the exact protection at a given moment is not modelled; what must hold
 * is that each scope sees at least the access it asked for, the contents
 * match the model, each scope settles as its callback did, a buffer
 * destroyed inside a scope stays destroyed (and nothing touches its range),
 * and every buffer is back at rest once all scopes have settled.
 */
async function runConcurrent(sizes: number[], scopes: AsyncScope[]) {
  const start = stats();
  const buffers = sizes.map((size) => SecretBuffer.random(size));
  const contents = buffers.map((b) => b.read((view) => view.slice()));
  const addresses = buffers.map((b) => b.address);
  const planned = new Planned("planned failure");
  const destroyed = new Set<number>();
  // Scopes that may still be open per buffer: counted up when a scope is
  // entered and down once its promise has settled (after the library left
  // it), so these never undercount the library's own counts.
  const readers = buffers.map(() => 0);
  const mayRefuse: boolean[] = [];
  try {
    const runs = scopes.map((s, i) => {
      const index = s.target % buffers.length;
      const buffer = buffers[index];
      return Promise.resolve().then(() => {
        if (destroyed.has(index)) {
          assertThrowsCode(() => buffer[s.scope](() => 0), "DESTROYED");
          return "skipped";
        }
        // The gate refuses a write while a read scope is open on the buffer.
        mayRefuse[i] = s.scope === "write" && readers[index] > 0;
        if (s.scope === "read") readers[index]++;
        const scope = buffer[s.scope](async (view) => {
          for (const wait of s.waits) await pause(wait);
          if (destroyed.has(index)) {
            assert.deepEqual(
              view.byteLength,
              0,
              "view of a buffer destroyed meanwhile",
            );
            assert.deepEqual(buffer.state, "destroyed");
          } else {
            const needed = s.scope === "write" ? "readwrite" : "readonly";
            const state = buffer.state as Protection;
            assert(
              RANK[state] >= RANK[needed],
              `state ${state} inside a ${s.scope} scope`,
            );
            assert.deepEqual(
              view,
              contents[index],
              "contents inside an async scope",
            );
            if (s.scope === "write" && view.length > 0) {
              const patch = s.patch.subarray(0, view.length);
              view.set(patch);
              contents[index].set(patch);
            }
            if (s.destroyInside) {
              buffer.destroy();
              destroyed.add(index);
              // The freed range may be mapped again at once; the scope's
              // exit must not touch it.
              buffers.push(SecretBuffer.alloc(sizes[index]));
            }
          }
          if (s.throws) throw planned;
          return "done";
        });
        if (s.scope === "read") {
          scope.then(() => readers[index]--, () => readers[index]--);
        }
        return scope;
      });
    });
    const settled = await Promise.allSettled(runs);
    settled.forEach((outcome, i) => {
      if (outcome.status === "fulfilled") {
        if (outcome.value === "skipped") return;
        assert(!scopes[i].throws, "a throwing scope resolved");
      } else {
        if (outcome.reason instanceof assert.AssertionError) {
          throw outcome.reason;
        }
        if (
          outcome.reason instanceof SecretMemoryError &&
          outcome.reason.code === "ACCESS_DENIED"
        ) {
          assert(mayRefuse[i], "a write was refused with no read scope open");
          refused++;
          return;
        }
        assert(
          scopes[i].throws && outcome.reason === planned,
          `scope rejected with ${String(outcome.reason)}`,
        );
      }
    });
    buffers.forEach((buffer, index) => {
      if (index < sizes.length && destroyed.has(index)) {
        assert.deepEqual(buffer.state, "destroyed");
        return;
      }
      assert.deepEqual(
        buffer.state,
        "noaccess",
        "at rest after every scope settled",
      );
      if (index < sizes.length) {
        buffer.read((view) =>
          assert.deepEqual(view, contents[index], "contents after")
        );
      }
    });
  } finally {
    for (const buffer of buffers) buffer.destroy();
  }
  assert.deepEqual(
    stats().liveBuffers,
    start.liveBuffers,
    "live buffers after the run",
  );
  assertUnmapped(addresses);
}

test(
  `fast-check: ${
    ASYNC_RUNS.toLocaleString("en")
  } sets of concurrent async scopes`,
  async () => {
    let scopesRun = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5000 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(asyncScope, { minLength: 1, maxLength: 4 }),
        async (sizes, scopes) => {
          scopesRun += scopes.length;
          await runConcurrent(sizes, scopes);
        },
      ),
      { numRuns: ASYNC_RUNS, seed: SEED },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    say(
      `  ${ASYNC_RUNS.toLocaleString("en")} runs, ${
        scopesRun.toLocaleString("en")
      } async scopes` +
        ` interleaved over 1-3 buffers (${refused} writes refused while a read scope was open), in ${seconds} s (seed ${SEED})`,
    );
  },
  { skip: linuxOnly },
);

// Hostile values (the adversarial suite's property): whatever a caller
// passes, an entry point either does the right thing or throws a typed
// SecretMemoryError, and leaves nothing live, open, locked or unaccounted.

/** A value a careless or hostile caller might pass where bytes go. */
const hostileBytes: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.tuple(fc.uint8Array({ maxLength: 16 }), fc.integer({ min: 0, max: 1e6 }))
    .map(([bytes, length]) => {
      Object.defineProperty(bytes, "length", { value: length });
      return bytes;
    }),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => new Proxy(bytes, {})),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => {
    (bytes.buffer as ArrayBuffer).transfer();
    return bytes;
  }),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => {
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    return shared;
  }),
  fc.tuple(fc.uint8Array({ maxLength: 16 }), fc.nat(16)).map(
    ([bytes, keep]) => {
      const buffer = new ArrayBuffer(bytes.length, { maxByteLength: 32 });
      const view = new Uint8Array(buffer);
      view.set(bytes);
      buffer.resize(Math.min(keep, bytes.length));
      return view;
    },
  ),
  fc.constantFrom(
    Object.create(Uint8Array.prototype),
    new Int8Array(4),
    [1, 2, 3],
    "abc",
    null,
    undefined,
    { [Symbol.toStringTag]: "SecretBuffer" },
  ),
);

/** A count a duck-typed file object might report. */
const hostileCount: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }),
  fc.double(),
  fc.constantFrom(undefined, null, NaN, Infinity, "3", 0),
);

/** The caller's own error, thrown from inside an options bag. */
const optionsBoom = new Error("options bag");

/**
 * An options bag that lies: a getter or a Proxy trap that throws, a getter
 * that answers differently each time it is read, or no object at all.
 * Made by a factory when the case runs: fast-check asks its values about
 * themselves (`in`), which a throwing trap would answer with a throw.
 */
const hostileOptions: fc.Arbitrary<() => unknown> = fc.oneof(
  fc.constantFrom("lock", "placement", "backend", "wipeSource").map(
    (key) => () =>
      Object.defineProperty({}, key, {
        enumerable: true,
        get() {
          throw optionsBoom;
        },
      }),
  ),
  fc.constantFrom("get", "ownKeys", "getOwnPropertyDescriptor", "has").map(
    (trap) => () =>
      new Proxy({ lock: "best-effort" }, {
        [trap]() {
          throw optionsBoom;
        },
      }),
  ),
  fc.tuple(
    fc.constantFrom("lock", "placement", "backend"),
    fc.array(fc.constantFrom("required", "best-effort", "start", "end", "x"), {
      minLength: 1,
      maxLength: 3,
    }),
  ).map(([key, answers]) => () => {
    let reads = 0;
    return Object.defineProperty({}, key, {
      enumerable: true,
      get: () => answers[Math.min(reads++, answers.length - 1)],
    });
  }),
  fc.constantFrom(null, 1, "lock", true, 1n, Symbol("options"), () => ({}))
    .map((value) => () => value),
);

type OptionsEntry =
  | "alloc"
  | "random"
  | "from"
  | "fromHex"
  | "fromText"
  | "poolFrom"
  | "fromStream";

type Hostile =
  | { kind: "options"; entry: OptionsEntry; make: () => unknown }
  | { kind: "from" | "equals" | "poolFrom" | "compare"; value: unknown }
  | { kind: "scopeThen"; escape: boolean; thenThrows: boolean }
  | { kind: "fileRead" | "fileWrite"; counts: unknown[] };

const hostileOp: fc.Arbitrary<Hostile> = fc.oneof(
  fc.record({
    kind: fc.constant("options" as const),
    entry: fc.constantFrom<OptionsEntry>(
      "alloc",
      "random",
      "from",
      "fromHex",
      "fromText",
      "poolFrom",
      "fromStream",
    ),
    make: hostileOptions,
  }),
  fc.record({
    kind: fc.constantFrom(
      "from",
      "equals",
      "poolFrom",
      "compare",
    ) as fc.Arbitrary<"from" | "equals" | "poolFrom" | "compare">,
    value: hostileBytes,
  }),
  fc.record({
    kind: fc.constant("scopeThen" as const),
    escape: fc.boolean(),
    thenThrows: fc.boolean(),
  }),
  fc.record({
    kind: fc.constantFrom("fileRead", "fileWrite") as fc.Arbitrary<
      "fileRead" | "fileWrite"
    >,
    counts: fc.array(hostileCount, { minLength: 1, maxLength: 4 }),
  }),
);

function typedOrNothing(fn: () => unknown): void {
  try {
    const out = fn();
    if (out instanceof SecretBuffer) out.destroy();
    (out as { destroy?: () => void } | undefined)?.destroy?.();
  } catch (error) {
    assert(
      error instanceof SecretMemoryError,
      `an untyped error escaped: ${error}`,
    );
  }
}

async function runHostile(op: Hostile, pool: SecretPool): Promise<void> {
  const probe = SecretBuffer.fromHex("01020304");
  try {
    switch (op.kind) {
      case "options": {
        const o = op.make() as never;
        const calls: Record<OptionsEntry, () => unknown> = {
          alloc: () => SecretBuffer.alloc(4, o),
          random: () => SecretBuffer.random(4, o),
          from: () => SecretBuffer.from(new Uint8Array([1, 2]), o),
          fromHex: () => SecretBuffer.fromHex("0102", o),
          fromText: () => SecretBuffer.fromText("pw", o),
          poolFrom: () => pool.from(new Uint8Array([1, 2]), o),
          fromStream: () =>
            SecretBuffer.fromStream(
              (async function* () {
                yield new Uint8Array([1]);
              })(),
              o,
            ),
        };
        try {
          const out = await calls[op.entry]();
          (out as { destroy?: () => void } | undefined)?.destroy?.();
        } catch (error) {
          assert(error instanceof SecretMemoryError, `untyped: ${error}`);
          // The caller's own throw comes back as a refused argument.
          if (error.cause === optionsBoom) {
            assert.equal(error.code, "INVALID_ARGUMENT");
          }
          assert.notEqual(error, optionsBoom);
        }
        break;
      }
      case "from":
        typedOrNothing(() => SecretBuffer.from(op.value as Uint8Array));
        break;
      case "poolFrom":
        typedOrNothing(() => pool.from(op.value as Uint8Array));
        break;
      case "equals":
        typedOrNothing(() => {
          const equal = probe.equals(op.value as Uint8Array);
          // Only four genuine bytes 1, 2, 3, 4 may compare equal.
          if (equal) {
            assert.deepEqual([...(op.value as Uint8Array)], [1, 2, 3, 4]);
          }
        });
        break;
      case "compare":
        typedOrNothing(() =>
          timingSafeEqual(op.value as Uint8Array, op.value as Uint8Array)
        );
        break;
      case "scopeThen": {
        const boom = new Error("then");
        try {
          await probe.read((view) => {
            if (op.escape) (view.buffer as ArrayBuffer).transfer();
            return op.thenThrows
              ? {
                get then() {
                  throw boom;
                },
              }
              : { then: (resolve: (v: number) => void) => resolve(1) };
          });
        } catch (error) {
          assert.equal(error, boom);
        }
        assert.equal(probe.state, "noaccess", "a scope stayed open");
        assert.equal(probe.read((view) => view.length), 4);
        break;
      }
      case "fileRead":
      case "fileWrite": {
        let call = 0;
        const next = () => op.counts[Math.min(call++, op.counts.length - 1)];
        const file = {
          read: (view: Uint8Array) => {
            const count = next();
            return Promise.resolve(call > 3 ? null : count).then((c) => {
              if (typeof c === "number" && c > 0 && c <= view.length) {
                view.fill(1, 0, c);
              }
              return c;
            });
          },
          write: () => Promise.resolve(call > 3 ? 4 : next()),
        };
        try {
          if (op.kind === "fileRead") {
            (await SecretBuffer.fromFd(file as never, { maxSize: 64 }))
              .destroy();
          } else {
            const written = await probe.writeTo(file as never);
            assert(written === 4, `writeTo reported ${written}`);
          }
        } catch (error) {
          assert(error instanceof SecretMemoryError, `untyped: ${error}`);
        }
        assert.equal(probe.state, "noaccess");
        break;
      }
    }
  } finally {
    probe.destroy();
  }
}

test("fast-check: hostile values at every entry point give a right answer or a typed error", async () => {
  const start = stats();
  const pool = new SecretPool();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(hostileOp, async (op) => {
      runs++;
      await runHostile(op, pool);
      assert.equal(stats().liveBuffers, start.liveBuffers, "a buffer leaked");
      assert.equal(pool.stats().liveSlots, 0, "a slot leaked");
    }),
    { numRuns: Math.max(200, Math.floor(ASYNC_RUNS / 4)), seed: SEED },
  );
  pool.destroy();
  const end = stats();
  assert.equal(end.lockedBytes, start.lockedBytes, "locked bytes left behind");
  say(
    `  ${runs} hostile values; ${
      end.quarantinedBuffers - start.quarantinedBuffers
    } ranges quarantined after escapes (seed ${SEED})`,
  );
});
