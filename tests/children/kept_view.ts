/**
 * Child for tests/hostile_one_secret_test.ts: keeps a view of a secret past
 * its end (its buffer transferred away, so no detach reaches it), destroys
 * the secret, allocates many new secrets full of 0x5a, then reads the view
 * it kept. Prints what it read; a fault (the range quarantined) ends it
 * first. A new secret must never show through the kept view.
 *
 * Usage: kept_view.ts buffer|slot|pool
 */

import { SecretBuffer, SecretPool } from "../../mod.ts";

const which = (globalThis as unknown as { process?: { argv: string[] } })
  .process?.argv.at(-1) ??
  (globalThis as unknown as { Deno: { args: string[] } }).Deno.args[0];

const NEW = 0x5a;
let kept: ArrayBuffer;
const held: { destroy(): void }[] = [];
if (which === "buffer") {
  const secret = SecretBuffer.from(new Uint8Array(64).fill(0x11));
  secret.read(() => 0);
  kept = secret.read((bytes) => (bytes.buffer as ArrayBuffer).transfer());
  secret.destroy();
  for (let i = 0; i < 400; i++) {
    held.push(SecretBuffer.from(new Uint8Array(64).fill(NEW)));
  }
} else {
  const pool = new SecretPool();
  const secret = pool.from(new Uint8Array(64).fill(0x11));
  secret.read(() => 0);
  kept = secret.read((bytes) => (bytes.buffer as ArrayBuffer).transfer());
  secret.destroy();
  if (which === "pool") pool.destroy();
  const again = which === "pool" ? new SecretPool() : pool;
  for (let i = 0; i < 4000; i++) {
    const slot = again.from(new Uint8Array(64).fill(NEW));
    // Open, so that the page under the kept view is readable if shared.
    slot.protect("readonly");
    held.push(slot);
  }
}
console.log("ready");
const seen = new Uint8Array(kept);
console.log(`read ${seen.length} ${[...seen].filter((b) => b === NEW).length}`);
