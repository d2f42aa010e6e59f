/**
 * Child run by Deno with every permission, which then revokes ffi (a
 * sandboxing program may, after start): each call that would need a new
 * view of native memory must throw FFI_UNAVAILABLE and leave nothing
 * reserved or locked; a buffer made before can still be read and
 * destroyed. What stays reserved is counted on the native layer's own
 * reserve and release calls (the JS heap's mappings come and go on their
 * own), what stays locked in /proc/self/status opened before the revoke
 * (Deno asks for every permission to open /proc/self after it).
 *
 * @module
 */

import { SecretBuffer, SecretMemoryError, SecretPool } from "../../mod.ts";
import { hmac } from "../../crypto.ts";
import { native, useNativeForTesting } from "../../src/core/_native.ts";

const deno = (globalThis as unknown as {
  Deno: {
    openSync(path: string): {
      seekSync(offset: number, whence: number): number;
      readSync(into: Uint8Array): number | null;
    };
    permissions: { revoke(descriptor: { name: string }): Promise<unknown> };
  };
}).Deno;

const statusFile = deno.openSync("/proc/self/status");
function lockedKiB(): number {
  statusFile.seekSync(0, 0);
  const chunk = new Uint8Array(16384);
  const n = statusFile.readSync(chunk) ?? 0;
  const text = new TextDecoder().decode(chunk.subarray(0, n));
  return Number(/VmLck:\s+(\d+)/.exec(text)?.[1] ?? NaN);
}

// Every reservation the library makes and has not released yet.
const reserved = new Set<bigint>();
const real = native();
useNativeForTesting(
  new Proxy(real, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (key === "reserve") {
        return (length: number) => {
          const base = value.call(target, length) as bigint;
          reserved.add(base);
          return base;
        };
      }
      if (key === "release") {
        return (address: bigint, length: number) => {
          value.call(target, address, length);
          reserved.delete(address);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  }),
);

const kept = SecretBuffer.random(32);
const first = kept.read((bytes) => bytes[0]);
const pool = new SecretPool();
// The counter sees the library's reservations: the buffer made above.
const seen = reserved.size;
await deno.permissions.revoke({ name: "ffi" });

const attempts: Record<string, () => unknown> = {
  random: () => SecretBuffer.random(32),
  alloc: () => SecretBuffer.alloc(16),
  from: () => SecretBuffer.from(new Uint8Array(8)),
  slice: () => kept.slice(0, 4),
  poolAlloc: () => pool.alloc(32),
  hmac: () => hmac("SHA-256", kept, new Uint8Array(4)),
};
const codes: Record<string, string> = {};
const left: Record<string, number> = {};
const lockedBefore = lockedKiB();
for (const [name, attempt] of Object.entries(attempts)) {
  const before = reserved.size;
  try {
    attempt();
    codes[name] = "no error";
  } catch (error) {
    codes[name] = error instanceof SecretMemoryError
      ? error.code
      : `${(error as Error).name}: ${(error as Error).message}`;
  }
  left[name] = reserved.size - before;
}
const lockedAfter = lockedKiB();
const readAgain = kept.read((bytes) => bytes[0]) === first;
kept.destroy();
pool.destroy();
console.log(JSON.stringify({
  codes,
  seen,
  left,
  lockedBefore,
  lockedAfter,
  readAgain,
  state: kept.state,
}));
