/**
 * Child run by Deno with every permission, which then revokes ffi (a
 * sandboxing program may, after start): each call that would need a new
 * view of native memory must throw FFI_UNAVAILABLE and leave no mapping
 * behind; a buffer made before can still be read and destroyed. The
 * mappings are counted through /proc/self/maps opened before the revoke
 * (Deno asks for every permission to open /proc/self after it).
 *
 * @module
 */

import { SecretBuffer, SecretMemoryError, SecretPool } from "../../mod.ts";
import { hmac } from "../../crypto.ts";

const deno = (globalThis as unknown as {
  Deno: {
    openSync(path: string): {
      seekSync(offset: number, whence: number): number;
      readSync(into: Uint8Array): number | null;
    };
    permissions: { revoke(descriptor: { name: string }): Promise<unknown> };
  };
}).Deno;

const mapsFile = deno.openSync("/proc/self/maps");
function mappings(): number {
  mapsFile.seekSync(0, 0);
  const chunk = new Uint8Array(65536);
  let text = "";
  const decoder = new TextDecoder();
  for (let n; (n = mapsFile.readSync(chunk)) !== null && n > 0;) {
    text += decoder.decode(chunk.subarray(0, n), { stream: true });
  }
  return text.split("\n").filter((line) => line !== "").length;
}

const kept = SecretBuffer.random(32);
const first = kept.read((bytes) => bytes[0]);
const pool = new SecretPool();
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
const mapsBefore = mappings();
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    attempt();
    codes[name] = "no error";
  } catch (error) {
    codes[name] = error instanceof SecretMemoryError
      ? error.code
      : `${(error as Error).name}: ${(error as Error).message}`;
  }
}
const mapsAfter = mappings();
const readAgain = kept.read((bytes) => bytes[0]) === first;
kept.destroy();
pool.destroy();
console.log(JSON.stringify({
  codes,
  mapsBefore,
  mapsAfter,
  readAgain,
  state: kept.state,
}));
