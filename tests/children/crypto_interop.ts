/**
 * Child for the interop table: hands a 32-byte key (and, for scrypt, a
 * passphrase) held in a SecretBuffer to one outside API (argument 1),
 * 1,000 times from 32 concurrent async tasks, and counts copies of the
 * key in this process's present pages: while the key is alive and at rest
 * (outside its own guarded page, objects the API returned still held, no
 * forced GC), then after the key is destroyed and those objects dropped
 * (still no forced GC). A copy that waits for the GC is a copy. Prints one
 * JSON line; an API the runtime lacks prints its error.
 *
 * @module
 */

import * as nodeCrypto from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { SecretBuffer } from "../../mod.ts";
import { encrypt, hmac, scryptSync } from "../../crypto.ts";
import { needleOf } from "../_forensics.ts";
import { scanMemoryAll } from "../../src/doctor/_scan.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const api = (host.Deno?.args ?? host.process.argv.slice(2))[0];
const CALLS = 1000;
const TASKS = 32;
const data = new TextEncoder().encode("GET /resource HTTP/1.1");
const nonce12 = new Uint8Array(12).fill(7);
const nonce24 = new Uint8Array(24).fill(9);
const salt = new Uint8Array(16).fill(3);

const key = SecretBuffer.random(32);
// What the API gave back, held while the key is alive.
let held: unknown[] = [];

/** The key, imported into WebCrypto as an HMAC key from its view. */
const importHmacKey = (): Promise<CryptoKey> =>
  key.read((k) =>
    crypto.subtle.importKey(
      "raw",
      k as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    )
  );

const calls: Record<string, () => Promise<unknown> | unknown> = {
  "webcrypto-importKey": importHmacKey,
  "webcrypto-hmac": async () =>
    crypto.subtle.sign("HMAC", await importHmacKey(), data),
  "node-createSecretKey": () => key.read((k) => nodeCrypto.createSecretKey(k)),
  "node-createHmac": () =>
    key.read((k) => nodeCrypto.createHmac("sha256", k).update(data).digest()),
  "node-createCipheriv": () =>
    key.read((k) => {
      const cipher = nodeCrypto.createCipheriv(
        "chacha20-poly1305",
        k as Uint8Array<ArrayBuffer>,
        nonce12,
        { authTagLength: 16 },
      );
      return [cipher.update(data), cipher.final(), cipher.getAuthTag()];
    }),
  "node-scryptSync": () =>
    key.read((k) => nodeCrypto.scryptSync(k, salt, 32, { N: 16, r: 1, p: 1 })),
  "noble-xchacha20poly1305": () =>
    key.read((k) => xchacha20poly1305(k, nonce24).encrypt(data)),
  "secmem-hmac": () => hmac("SHA-256", key, data),
  "secmem-encrypt": () => encrypt(key, data),
  "secmem-scryptSync": () => {
    const out = scryptSync(key, { salt, N: 16, r: 1, p: 1, length: 32 });
    out.destroy();
  },
};

const run = calls[api];
if (run === undefined) throw new Error(`unknown API ${api}`);
const needle = needleOf(key);
const control = new Uint8Array(32).map((_, i) => (i * 151 + 7) & 0xff);
try {
  await run();
} catch (error) {
  console.log(JSON.stringify({ api, error: String(error).slice(0, 200) }));
  key.destroy();
  throw error;
}
const tasks = [];
for (let t = 0; t < TASKS; t++) {
  tasks.push((async () => {
    for (let i = t; i < CALLS; i += TASKS) {
      const result = await run();
      if (i < 64) held.push(result);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  })());
}
await Promise.all(tasks);
const [start, end] = [key.address, key.address + 32n];
const [alive] = scanMemoryAll([needle]);
const aliveOutside = alive.hits.filter((a) => a < start || a >= end).length;
key.destroy();
held = [];
const [gone, seen] = scanMemoryAll([needle, needleOf(control)]);
console.log(JSON.stringify({
  api,
  calls: CALLS,
  alive: aliveOutside,
  destroyed: gone.hits.length,
  heapControl: seen.hits.length,
}));
