/**
 * Pooled secrets beside one-mapping secrets, in the same process: per-op
 * times of a 32-byte `SecretPool` slot (alloc+destroy, read scope, random)
 * at rest noaccess and at rest readwrite, and of `SecretBuffer.alloc(32)`
 * + destroy and its read scope.
 *
 * Run standalone (Markdown table on stdout):
 *
 * ```sh
 * deno run -A bench/pool_bench.ts [--rounds 7] [--quick]
 * bun bench/pool_bench.ts
 * ```
 *
 * `poolWorkloads` has the same shape as the benchmark harness's workloads
 * (`run(n)`, optional `teardown()`), so `bench/secmem_bench.ts` can spread
 * it into its own table and run it beside libsodium.
 *
 * @module
 */

import { SecretBuffer, SecretPool, type SecretSlot } from "../mod.ts";

/** One workload: setup happens in its factory, `run` is what is timed. */
export interface PoolWorkload {
  run(n: number): void;
  teardown?(): void;
}

let sink = 0;

function allocDestroy(pool: SecretPool): () => PoolWorkload {
  return () => ({
    run(n) {
      for (let i = 0; i < n; i++) pool.alloc(32).destroy();
    },
  });
}

function random(pool: SecretPool): () => PoolWorkload {
  return () => ({
    run(n) {
      for (let i = 0; i < n; i++) pool.random(32).destroy();
    },
  });
}

function readScope(pool: SecretPool): () => PoolWorkload {
  return () => {
    const slot = pool.alloc(32);
    return {
      run(n) {
        for (let i = 0; i < n; i++) sink += slot.read((bytes) => bytes[0]);
      },
      teardown: () => slot.destroy(),
    };
  };
}

function withLive(pool: SecretPool, live: number): () => PoolWorkload {
  return () => {
    const held: SecretSlot[] = [];
    for (let i = 0; i < live; i++) held.push(pool.alloc(32));
    return {
      run(n) {
        for (let i = 0; i < n; i++) pool.alloc(32).destroy();
      },
      teardown() {
        for (const slot of held) slot.destroy();
      },
    };
  };
}

const closed = new SecretPool();
const open = new SecretPool({ rest: "readwrite" });

/** The pool's workloads, by id, for this file and for the harness. */
export const poolWorkloads: Record<string, () => PoolWorkload> = {
  pool_alloc32: allocDestroy(closed),
  pool_alloc32_rw: allocDestroy(open),
  pool_read: readScope(closed),
  pool_read_rw: readScope(open),
  pool_random32: random(closed),
  pool_random32_rw: random(open),
  pool_live10k: withLive(closed, 10_000),
  pool_live10k_rw: withLive(open, 10_000),
};

/** What each pool workload is, for a report. */
export const poolLabels: Record<string, string> = {
  pool_alloc32: "pool alloc+destroy 32 B, rest noaccess",
  pool_alloc32_rw: "pool alloc+destroy 32 B, rest readwrite",
  pool_read: "pool read scope, rest noaccess",
  pool_read_rw: "pool read scope, rest readwrite",
  pool_random32: "pool random 32 B (+destroy), rest noaccess",
  pool_random32_rw: "pool random 32 B (+destroy), rest readwrite",
  pool_live10k: "pool alloc+destroy 32 B, 10k live, rest noaccess",
  pool_live10k_rw: "pool alloc+destroy 32 B, 10k live, rest readwrite",
};

// The one-mapping baseline, timed in the same process and rounds.
const baseline: Record<string, () => PoolWorkload> = {
  buffer_alloc32: () => ({
    run(n) {
      for (let i = 0; i < n; i++) SecretBuffer.alloc(32).destroy();
    },
  }),
  buffer_read: () => {
    const buffer = SecretBuffer.alloc(32);
    return {
      run(n) {
        for (let i = 0; i < n; i++) sink += buffer.read((bytes) => bytes[0]);
      },
      teardown: () => buffer.destroy(),
    };
  },
};

const baselineLabels: Record<string, string> = {
  buffer_alloc32: "SecretBuffer.alloc(32) + destroy",
  buffer_read: "SecretBuffer read scope",
};

/**
 * libsodium's figures from shared/ANCHORS.md, in ns: sodium_malloc +
 * sodium_free, and a readonly/noaccess toggle (the read-scope equivalent).
 */
const LIBSODIUM_NS = { allocFree: 16_000, toggle: 1_600 };

function timeOnce(make: () => PoolWorkload, n: number): number {
  const workload = make();
  try {
    workload.run(Math.min(200, n));
    const start = performance.now();
    workload.run(n);
    return ((performance.now() - start) * 1e6) / n;
  } finally {
    workload.teardown?.();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

function runtimeName(): string {
  const host = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
    process?: { versions: { node: string } };
  };
  if (host.Deno !== undefined) return `Deno ${host.Deno.version.deno}`;
  if (host.Bun !== undefined) return `Bun ${host.Bun.version}`;
  return `Node ${host.process?.versions.node}`;
}

function argv(): string[] {
  const host = globalThis as {
    Deno?: { args: string[] };
    process?: { argv: string[] };
  };
  return host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
}

function main(): void {
  const args = argv();
  const quick = args.includes("--quick");
  const roundsAt = args.indexOf("--rounds");
  const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : quick ? 1 : 7;
  const all = { ...baseline, ...poolWorkloads };
  const labels = { ...baselineLabels, ...poolLabels };
  const iterations = (id: string) =>
    quick ? 200 : id.includes("_rw") || id.includes("read") ? 200_000 : 10_000;
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so no workload always runs first.
    const ids = Object.keys(all);
    const order = [
      ...ids.slice(round % ids.length),
      ...ids.slice(0, round % ids.length),
    ];
    for (const id of order) {
      (samples[id] ??= []).push(timeOnce(all[id], iterations(id)));
    }
  }
  console.log(
    `## SecretPool beside SecretBuffer (${runtimeName()}, median of ${rounds} rounds)\n`,
  );
  console.log(
    "| workload | ns/op | vs SecretBuffer (same op) | vs libsodium (ANCHORS: alloc+free 16 µs, toggle 1.6 µs) |",
  );
  console.log("| --- | ---: | ---: | ---: |");
  for (const id of Object.keys(all)) {
    const ns = median(samples[id]);
    const reading = id.includes("read");
    const buffer = median(samples[reading ? "buffer_read" : "buffer_alloc32"]);
    const sodium = reading ? LIBSODIUM_NS.toggle : LIBSODIUM_NS.allocFree;
    const ratio = (base: number) =>
      base === ns
        ? "1x"
        : ns < base
        ? `${(base / ns).toFixed(1)}x faster`
        : `${(ns / base).toFixed(1)}x slower`;
    console.log(
      `| ${labels[id]} | ${ns.toFixed(0)} | ${ratio(buffer)} | ${
        ratio(sodium)
      } |`,
    );
  }
  console.log(
    "\nThe libsodium column divides by the figures of shared/ANCHORS.md, not ones from this run;" +
      " bench/secmem_bench.ts runs these workloads beside libsodium in the same rounds.",
  );
  if (sink === -1) console.log(sink);
  closed.destroy();
  open.destroy();
}

if ((import.meta as { main?: boolean }).main) main();
