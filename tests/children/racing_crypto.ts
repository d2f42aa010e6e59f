/**
 * Child for tests/hostile_racing_crypto_test.ts: memory that changes while
 * the crypto entry reads it. A Worker flips bytes of a SharedArrayBuffer in
 * a tight loop while this thread calls one entry on views of it, and
 * reports what came back.
 *
 * Usage: racing_crypto.ts <case>, case one of:
 * - `decrypt`, `decrypt-key`: decrypt (one-shot, or an aeadKey) a message
 *   whose last ciphertext byte the Worker toggles. Every plaintext
 *   returned must be the one encrypted: toggled, the tag must fail.
 * - `hmac`, `hmac-key`: MACs of data whose last byte is toggled; each
 *   must be the MAC of one of the two messages.
 * - `hkdf`: output whose info's last byte is toggled, must be HKDF of one
 *   of the two infos (Expand uses the info once per output block).
 *
 * Prints one JSON line: { calls, seen, wrong } (seen: calls whose answer
 * showed the flipped bytes; wrong: answers no single input gives).
 *
 * @module
 */

import { SecretBuffer, SecretMemoryError } from "../../mod.ts";
import * as entry from "../../crypto.ts";
import { startWorker, workerOrMain } from "./_worker.ts";

interface Host {
  Deno?: { args: string[] };
  process: { argv: string[] };
  onmessage?: (event: { data: unknown }) => void;
}
const host = globalThis as unknown as Host;

// The shared block: | control int32 (1: stop) | pad | bytes to flip |
interface Job {
  shared: SharedArrayBuffer;
  /** Byte offsets (into the shared buffer) the Worker toggles. */
  flip: number[];
}

async function receive(): Promise<Job> {
  if (host.Deno !== undefined) {
    return await new Promise((resolve) => {
      host.onmessage = (event) => resolve(event.data as Job);
    });
  }
  const threads = await import("node:worker_threads");
  return await new Promise((resolve) =>
    threads.parentPort!.once("message", (m) => resolve(m as Job))
  );
}

async function flipper(_job: string, post: (m: unknown) => void) {
  const { shared, flip } = await receive();
  const control = new Int32Array(shared, 0, 1);
  const bytes = new Uint8Array(shared);
  post("flipping");
  let rounds = 0;
  while (Atomics.load(control, 0) === 0) {
    for (const at of flip) bytes[at] ^= 1;
    rounds++;
  }
  // Leave the bytes as they began: an even number of toggles.
  if (rounds % 2 === 1) { for (const at of flip) bytes[at] ^= 1; }
  post("stopped");
}

// Read from the namespace: on a tree from before the keyed contexts they
// are undefined, and only their cases fail (this child also runs there).
const { aeadKey, decrypt, encrypt, hkdf, hmac, hmacKey } = entry;

const equal = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

async function main() {
  const which = host.Deno?.args[0] ?? host.process.argv[2];
  using key = SecretBuffer.random(32);
  const HEAD = 16;
  const size = 200;
  const shared = new SharedArrayBuffer(HEAD + size + 64);
  const control = new Int32Array(shared, 0, 1);
  const view = new Uint8Array(shared, HEAD, size);
  const plain = new Uint8Array(size - 40).map((_, i) => i);
  let flip: number[];
  // Each case: one call on the racing view; answers an outcome.
  let call: () => "same" | "seen" | "wrong";
  if (which === "decrypt" || which === "decrypt-key") {
    const context = which === "decrypt-key" ? aeadKey(key) : undefined;
    view.set(encrypt(key, plain));
    flip = [HEAD + size - 17]; // the last ciphertext byte, before the tag
    call = () => {
      try {
        using out = context ? context.decrypt(view) : decrypt(key, view);
        return out.read((b) => equal(b, plain)) ? "same" : "wrong";
      } catch (error) {
        if (error instanceof SecretMemoryError && error.code === "INTEGRITY") {
          return "seen";
        }
        throw error;
      }
    };
  } else if (which === "hmac" || which === "hmac-key") {
    const context = which === "hmac" ? undefined : hmacKey("SHA-256", key);
    for (let i = 0; i < size; i++) view[i] = i;
    const other = new Uint8Array(view);
    other[size - 1] ^= 1;
    const tagA = hmac("SHA-256", key, new Uint8Array(view));
    const tagB = hmac("SHA-256", key, other);
    flip = [HEAD + size - 1];
    call = () => {
      const tag = context ? context.mac(view) : hmac("SHA-256", key, view);
      if (equal(tag, tagA)) return "same";
      return equal(tag, tagB) ? "seen" : "wrong";
    };
  } else if (which === "hkdf") {
    for (let i = 0; i < size; i++) view[i] = i;
    const other = new Uint8Array(view);
    other[size - 1] ^= 1;
    const salt = new Uint8Array(16);
    const derive = (info: Uint8Array) => {
      using out = hkdf("SHA-256", key, { salt, info, length: 32 * 40 });
      return out.read((b) => new Uint8Array(b));
    };
    const okmA = derive(new Uint8Array(view));
    const okmB = derive(other);
    flip = [HEAD + size - 1];
    call = () => {
      const okm = derive(view);
      if (equal(okm, okmA)) return "same";
      return equal(okm, okmB) ? "seen" : "wrong";
    };
  } else {
    throw new Error(`unknown case ${which}`);
  }
  const worker = await startWorker<string>(import.meta.url, "flip");
  worker.send({ shared, flip } satisfies Job);
  await worker.report;
  const counts = { calls: 0, seen: 0, wrong: 0 };
  const until = Date.now() + 4000;
  while (Date.now() < until && counts.calls < 3000) {
    const outcome = call();
    counts.calls++;
    if (outcome === "seen") counts.seen++;
    if (outcome === "wrong") counts.wrong++;
  }
  Atomics.store(control, 0, 1);
  await worker.terminate();
  console.log(JSON.stringify(counts));
}

await workerOrMain(import.meta.url, flipper, main);
