/**
 * The sodium-native contestant of the benchmark (the npm addon over
 * libsodium), run under Node 26 with `--expose-gc`. Speaks the protocol of
 * `_protocol.ts`. `bench/run.sh` installs sodium-native into
 * `bench/out/npm/` from `bench/npm/package-lock.json`.
 *
 * sodium-native's `sodium_free` only detaches the buffer: libsodium's
 * `sodium_free` runs in the ArrayBuffer's finalizer, which Node queues
 * after a garbage collection and runs on a later turn of the event loop.
 * A loop that never yields therefore keeps every mapping (4 VMAs and a
 * locked page each) and dies at vm.max_map_count. Alloc loops here run in
 * chunks of 1000: after each, a minor GC and one turn of the event loop let
 * the finalizers free the chunk. That time is part of the measurement,
 * because it is where the memory is actually released.
 *
 * @module
 */

import { createRequire } from "node:module";
import process from "node:process";
import { main, type Workload } from "./_protocol.ts";

interface SodiumNative {
  sodium_malloc(size: number): Uint8Array;
  sodium_free(buffer: Uint8Array): void;
  sodium_mprotect_noaccess(buffer: Uint8Array): void;
  sodium_mprotect_readonly(buffer: Uint8Array): void;
  randombytes_buf(buffer: Uint8Array): void;
  sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean;
}

const require = createRequire(new URL("./out/npm/", import.meta.url));
const sodium = require("sodium-native") as SodiumNative;
const packageVersion =
  (require("sodium-native/package.json") as { version: string }).version;

const gc = (globalThis as { gc?: (options: { type: string }) => void }).gc;
if (gc === undefined) {
  process.stderr.write("run with node --expose-gc\n");
  process.exit(2);
}

const CHUNK = 1000;

/** Lets finalizers of freed buffers run: minor GC, then an event-loop turn. */
async function collect(): Promise<void> {
  gc!({ type: "minor" });
  await new Promise((resolve) => setImmediate(resolve));
}

/** Runs `body` n times in chunks, collecting after each chunk. */
async function chunked(n: number, body: () => void): Promise<void> {
  for (let done = 0; done < n;) {
    const end = Math.min(n, done + CHUNK);
    for (; done < end; done++) body();
    await collect();
  }
}

let sink = 0;

function allocFree(size: number): () => void {
  return () => sodium.sodium_free(sodium.sodium_malloc(size));
}

function allocDestroy(size: number): () => Workload {
  const body = allocFree(size);
  return () => ({ run: (n) => chunked(n, body) });
}

function withLive(live: number): () => Workload {
  return () => {
    const held: Uint8Array[] = [];
    for (let i = 0; i < live; i++) held.push(sodium.sodium_malloc(32));
    const body = allocFree(32);
    return {
      run: (n) => chunked(n, body),
      async teardown() {
        for (const buffer of held) sodium.sodium_free(buffer);
        await collect();
      },
    };
  };
}

function equals(size: number): () => Workload {
  return () => {
    const a = sodium.sodium_malloc(size);
    const b = sodium.sodium_malloc(size);
    return {
      run(n) {
        for (let i = 0; i < n; i++) sink += sodium.sodium_memcmp(a, b) ? 1 : 0;
      },
      teardown() {
        sodium.sodium_free(a);
        sodium.sodium_free(b);
      },
    };
  };
}

await main({
  version: () =>
    `node ${process.versions.node}, sodium-native ${packageVersion}`,
  secret32() {
    const buffer = sodium.sodium_malloc(32);
    return () => sodium.sodium_free(buffer);
  },
  workloads: {
    alloc32: allocDestroy(32),
    alloc1k: allocDestroy(1024),
    alloc64k: allocDestroy(65536),
    read: () => {
      const buffer = sodium.sodium_malloc(32);
      sodium.sodium_mprotect_noaccess(buffer);
      return {
        run(n) {
          for (let i = 0; i < n; i++) {
            sodium.sodium_mprotect_readonly(buffer);
            sodium.sodium_mprotect_noaccess(buffer);
          }
        },
        teardown: () => sodium.sodium_free(buffer),
      };
    },
    random32: () => ({
      run: (n) =>
        chunked(n, () => {
          const buffer = sodium.sodium_malloc(32);
          sodium.randombytes_buf(buffer);
          sodium.sodium_free(buffer);
        }),
    }),
    eq32: equals(32),
    eq4k: equals(4096),
    live1: withLive(1),
    live1k: withLive(1000),
    live10k: withLive(10000),
  },
});

if (sink === -1) console.log(sink);
