/**
 * The secmem contestant of the benchmark, through the public API of
 * `mod.ts`, under whichever runtime runs it (Deno, Bun or Node 26). Speaks
 * the protocol of `_protocol.ts`.
 *
 * Besides the workloads shared with libsodium, three profiling workloads
 * split secmem's cost into its parts:
 * - `getpid`: the runtime's own FFI calling `getpid()` (C pays ~0 on top of
 *   the syscall, so the difference is the runtime's fixed cost per call);
 * - `ffi_ptr`: one call through secmem's adapter with a pointer argument
 *   and no syscall (`explicit_bzero(p, 0)`): adapter + FFI cost per call;
 * - `floor32`: secmem's exact native call sequence for one 32-byte buffer
 *   made through its native layer with no `SecretBuffer` around it (the C
 *   program runs the same sequence in C): the difference from `alloc32` is
 *   the JavaScript work of `SecretBuffer`, the difference from C's
 *   `floor32` is FFI overhead;
 * - `floor32_raw`: the same calls straight through the runtime's FFI with
 *   bigint 64-bit arguments and no adapter: the least this runtime can pay,
 *   so `floor32 − floor32_raw` is what secmem's adapter layer costs;
 * - `pool32`, `pool32_rw`: alloc+destroy of a 32-byte slot of a
 *   `SecretPool` (arena pages resting noaccess, or readwrite), the pooled
 *   allocator that makes no mapping per secret;
 * - `toggle_raw`: a read scope's two mprotect calls straight through the
 *   runtime's FFI: the least a read scope can cost in this runtime;
 * - `part_views`, `part_canary`, `part_registry`: the JavaScript pieces of
 *   one buffer's life in isolation (zero-copy views made and detached, a
 *   canary drawn, the live-set and FinalizationRegistry bookkeeping).
 *
 * @module
 */

import process from "node:process";
import { SecretBuffer, SecretPool } from "../mod.ts";
import { nextCanary } from "../src/core/_canary.ts";
import { native } from "../src/core/_native.ts";
import { main, type Workload } from "./_protocol.ts";
import { rawFloor, rawGetpid, rawToggle } from "./_raw_ffi.ts";

const noop = (): void => {};

let sink = 0;

function allocDestroy(size: number): () => Workload {
  return () => ({
    run(n) {
      for (let i = 0; i < n; i++) SecretBuffer.alloc(size).destroy();
    },
  });
}

/** Alloc+destroy of 32 B while `live` other 32-byte buffers are alive. */
function withLive(live: number): () => Workload {
  return () => {
    const held: SecretBuffer[] = [];
    for (let i = 0; i < live; i++) held.push(SecretBuffer.alloc(32));
    return {
      run(n) {
        for (let i = 0; i < n; i++) SecretBuffer.alloc(32).destroy();
      },
      teardown() {
        for (const buffer of held) buffer.destroy();
      },
    };
  };
}

function equals(size: number): () => Workload {
  return () => {
    const a = SecretBuffer.alloc(size);
    const b = SecretBuffer.alloc(size);
    return {
      run(n) {
        for (let i = 0; i < n; i++) sink += a.equals(b) ? 1 : 0;
      },
      teardown() {
        a.destroy();
        b.destroy();
      },
    };
  };
}

/** Alloc+destroy of a 32-byte slot of a `SecretPool` resting as `rest`. */
function pooled(rest: "noaccess" | "readwrite"): Workload {
  const pool = new SecretPool({ rest });
  return {
    run(n) {
      for (let i = 0; i < n; i++) pool.alloc(32).destroy();
    },
    teardown: () => void pool.destroy(),
  };
}

/** A workload over one committed page, released at teardown. */
function page(
  body: (memory: ReturnType<typeof native>, data: bigint) => void,
): Workload {
  const memory = native();
  const size = memory.pageSize;
  const base = memory.reserve(3 * size);
  const data = base + BigInt(size);
  memory.commit(data, size, false);
  return {
    run(n) {
      for (let i = 0; i < n; i++) body(memory, data);
    },
    teardown: () => memory.release(base, 3 * size),
  };
}

function version(): string {
  const host = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
  };
  if (host.Deno !== undefined) return `deno ${host.Deno.version.deno}`;
  if (host.Bun !== undefined) return `bun ${host.Bun.version}`;
  return `node ${process.versions.node}`;
}

await main({
  version,
  secret32() {
    const buffer = SecretBuffer.alloc(32);
    return () => buffer.destroy();
  },
  workloads: {
    alloc32: allocDestroy(32),
    alloc1k: allocDestroy(1024),
    alloc64k: allocDestroy(65536),
    read: () => {
      const buffer = SecretBuffer.alloc(32);
      return {
        run(n) {
          for (let i = 0; i < n; i++) buffer.read(noop);
        },
        teardown: () => buffer.destroy(),
      };
    },
    random32: () => ({
      run(n) {
        for (let i = 0; i < n; i++) SecretBuffer.random(32).destroy();
      },
    }),
    eq32: equals(32),
    eq4k: equals(4096),
    live1: withLive(1),
    live1k: withLive(1000),
    live10k: withLive(10000),
    pool32: () => pooled("noaccess"),
    pool32_rw: () => pooled("readwrite"),
    getpid: () => {
      const { getpid } = rawGetpid();
      return {
        run(n) {
          for (let i = 0; i < n; i++) sink += getpid();
        },
      };
    },
    ffi_ptr: () => {
      const buffer = SecretBuffer.alloc(32);
      const memory = native();
      const address = buffer.address;
      return {
        run(n) {
          for (let i = 0; i < n; i++) memory.wipe(address, 0);
        },
        teardown: () => buffer.destroy(),
      };
    },
    floor32: () => {
      const memory = native();
      const page = memory.pageSize;
      return {
        run(n) {
          for (let i = 0; i < n; i++) {
            const base = memory.reserve(3 * page);
            const data = base + BigInt(page);
            memory.commit(data, page, true);
            memory.keepOutOfDumpsAndForks(data, page);
            memory.protect(data, page, "noaccess");
            memory.protect(data, page, "readwrite");
            memory.wipe(data, page);
            memory.release(base, 3 * page);
          }
        },
      };
    },
    part_views: () =>
      page((memory, data) => {
        // What one buffer's life does with views: user and canary buffers
        // made over the pages, wrapped, and detached at destroy.
        const user = memory.view(data + 4064n, 32);
        const canary = memory.view(data + 4048n, 16);
        new Uint8Array(user);
        new Uint8Array(canary);
        user.transfer(0);
        canary.transfer(0);
      }),
    part_canary: () => page((memory) => void nextCanary(memory)),
    part_registry: () => {
      const registry = new FinalizationRegistry<object>(noop);
      const live = new Set<object>();
      return {
        run(n) {
          for (let i = 0; i < n; i++) {
            const owner = {};
            const region = {};
            live.add(region);
            registry.register(owner, region, region);
            registry.unregister(region);
            live.delete(region);
          }
        },
      };
    },
    toggle_raw: () => {
      const { toggle, release } = rawToggle(native().pageSize);
      return {
        run(n) {
          for (let i = 0; i < n; i++) toggle();
        },
        teardown: release,
      };
    },
    floor32_raw: () => {
      const once = rawFloor(native().pageSize);
      return {
        run(n) {
          for (let i = 0; i < n; i++) once();
        },
      };
    },
  },
});

// Keeps the comparisons and getpid calls observable to the optimiser.
if (sink === -1) console.log(sink);
