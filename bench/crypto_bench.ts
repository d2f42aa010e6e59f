/**
 * The cost of staying clean: each `./crypto` function beside node:crypto
 * and @noble/ciphers/@noble/hashes on the same inputs, median µs per
 * call (interleaved batches). The contenders get the key as the SecretBuffer's view, which
 * is how a user would hand it over (and what leaves copies; see
 * docs/interop.md).
 *
 * Usage: `deno run -A bench/crypto_bench.ts`, `bun bench/crypto_bench.ts`,
 * `node bench/crypto_bench.ts`. Options: `--only TEXT` runs the rows whose
 * name contains TEXT; `--count WORKLOAD N` makes N calls of one workload
 * (see `COUNTED`) and nothing else, for `strace -f -c` (run it with N and
 * with 0 and subtract). The keyed contexts' rows run only where the entry
 * has them, so this file also measures a tree from before them.
 *
 * @module
 */

import * as nodeCrypto from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { SecretBuffer } from "../mod.ts";
import * as entry from "../crypto.ts";
import { decrypt, encrypt, hkdf, hmac, scryptSync } from "../crypto.ts";
import process from "node:process";
import { runtimeLabel } from "./_timing.ts";

/**
 * Median µs per call of each contender over interleaved batches, by the
 * wall clock. Each batch is sized to last about 20 ms: process CPU time
 * (`process.cpuUsage`) ticks too coarsely here for calls of a few µs, and
 * interleaving spreads the load of a shared machine over every contender
 * alike. `perBatch` is the least number of calls in a batch.
 */
function cpuMicros(
  fns: Record<string, () => void>,
  batches: number,
  perBatch: number,
): Record<string, number> {
  const names = Object.keys(fns);
  const samples: Record<string, number[]> = {};
  const sizes: Record<string, number> = {};
  for (const name of names) {
    // Warm up, and size the batch.
    let calls = perBatch;
    for (;;) {
      const start = performance.now();
      for (let i = 0; i < calls; i++) fns[name]();
      const took = performance.now() - start;
      if (took >= 10 || calls >= 1_000_000) {
        sizes[name] = Math.max(perBatch, Math.round(calls * 20 / took));
        break;
      }
      calls *= 4;
    }
    samples[name] = [];
  }
  for (let b = 0; b < batches; b++) {
    for (const name of names) {
      const n = sizes[name];
      const start = performance.now();
      for (let i = 0; i < n; i++) fns[name]();
      samples[name].push((performance.now() - start) * 1000 / n);
    }
  }
  const result: Record<string, number> = {};
  for (const name of names) {
    const sorted = samples[name].sort((a, b) => a - b);
    result[name] = sorted[Math.floor(sorted.length / 2)];
  }
  return result;
}

const key = SecretBuffer.random(32);
const salt = new Uint8Array(16).fill(5);
const info = new Uint8Array(8).fill(6);
const nonce12 = new Uint8Array(12).fill(7);
const nonce24 = new Uint8Array(24).fill(9);

type Contenders = Record<string, () => void>;

const nodeChacha = (
  size: number,
  heap?: Uint8Array,
): (() => void) | undefined => {
  try {
    nodeCrypto.createCipheriv(
      "chacha20-poly1305",
      new Uint8Array(32),
      nonce12,
      {
        authTagLength: 16,
      },
    );
  } catch {
    return undefined; // Bun's node:crypto has no ChaCha20-Poly1305.
  }
  const data = new Uint8Array(size);
  if (heap !== undefined) {
    return () => {
      const c = nodeCrypto.createCipheriv("chacha20-poly1305", heap, nonce12, {
        authTagLength: 16,
      });
      c.update(data);
      c.final();
      c.getAuthTag();
    };
  }
  return () =>
    key.read((k) => {
      const c = nodeCrypto.createCipheriv("chacha20-poly1305", k, nonce12, {
        authTagLength: 16,
      });
      c.update(data);
      c.final();
      c.getAuthTag();
    });
};

// The keyed contexts, where this tree has them (absent before issue 25).
interface Contexts {
  hmacKey?: (
    hash: "SHA-256",
    key: SecretBuffer,
    options?: { rest?: "noaccess" | "readwrite" },
  ) => {
    mac(data: Uint8Array): Uint8Array;
    verify(data: Uint8Array, tag: Uint8Array): boolean;
  };
  aeadKey?: (
    key: SecretBuffer,
    options?: { rest?: "noaccess" | "readwrite" },
  ) => {
    encrypt(data: Uint8Array): Uint8Array;
    decrypt(message: Uint8Array): SecretBuffer;
  };
  hmacVerify?: (
    hash: "SHA-256",
    key: SecretBuffer,
    data: Uint8Array,
    tag: Uint8Array,
  ) => boolean;
}
const contexts = entry as unknown as Contexts;
// The rows below give node:crypto and noble the key as a heap array, as a
// server that chose them would hold it: that is the speed to meet (and
// the copies it leaves are docs/interop.md's subject, not this file's).
const heapKey = key.read((k) => new Uint8Array(k));
const data64 = new Uint8Array(64).fill(3);
const hmacRw = contexts.hmacKey?.("SHA-256", key, { rest: "readwrite" });
const hmacNa = contexts.hmacKey?.("SHA-256", key);
const aeadRw = contexts.aeadKey?.(key, { rest: "readwrite" });
const aeadNa = contexts.aeadKey?.(key);

/** One call each, for `--count`: the workloads strace counts. */
const COUNTED: Record<string, (() => void) | undefined> = {
  "hmac-oneshot": () => void hmac("SHA-256", key, data64),
  "hmac-key-readwrite": hmacRw && (() => void hmacRw.mac(data64)),
  "hmac-key-noaccess": hmacNa && (() => void hmacNa.mac(data64)),
  "encrypt-4k-oneshot": () => void encrypt(key, new Uint8Array(4096)),
  "encrypt-4k-key-readwrite": aeadRw &&
    (() => void aeadRw.encrypt(new Uint8Array(4096))),
};

const argv = process.argv;
const countAt = argv.indexOf("--count");
if (countAt >= 0) {
  const fn = COUNTED[argv[countAt + 1]];
  const n = Number(argv[countAt + 2]);
  if (fn === undefined) throw new Error(`no workload ${argv[countAt + 1]}`);
  for (let i = 0; i < 2000; i++) fn();
  for (let i = 0; i < n; i++) fn();
  process.exit(0);
}
const onlyAt = argv.indexOf("--only");
const only = onlyAt >= 0 ? argv[onlyAt + 1] : "";

const rows: [string, Contenders, number, number][] = [];
{
  const nodeMac = () =>
    key.read((k) => nodeCrypto.createHmac("sha256", k).update(data64).digest());
  const nobleMac = () => key.read((k) => nobleHmac(nobleSha256, k, data64));
  rows.push([
    "hmac SHA-256 64 B, one-shot",
    {
      secmem: () => void hmac("SHA-256", key, data64),
      "node:crypto": nodeMac,
      noble: nobleMac,
    },
    20,
    200,
  ]);
  if (hmacRw !== undefined && hmacNa !== undefined) {
    rows.push([
      "hmac SHA-256 64 B, hmacKey rest readwrite",
      {
        secmem: () => void hmacRw.mac(data64),
        "node:crypto": nodeMac,
        noble: nobleMac,
      },
      20,
      500,
    ]);
    rows.push([
      "hmac SHA-256 64 B, hmacKey rest noaccess",
      {
        secmem: () => void hmacNa.mac(data64),
        "node:crypto": nodeMac,
        noble: nobleMac,
      },
      20,
      200,
    ]);
    const tag = hmacRw.mac(data64);
    rows.push([
      "verify SHA-256 64 B, hmacKey rest readwrite",
      {
        secmem: () => void hmacRw.verify(data64, tag),
        "node:crypto": () =>
          nodeCrypto.timingSafeEqual(
            nodeCrypto.createHmac("sha256", heapKey).update(data64).digest(),
            tag,
          ),
        noble: nobleMac,
      },
      20,
      500,
    ]);
  }
  for (const size of [4096, 1024 * 1024]) {
    const plain = new Uint8Array(size).fill(4);
    const big = size > 4096;
    const batches = big ? 7 : 15;
    const perBatch = big ? 1 : 4;
    const label = big ? "1 MiB" : "4 KiB";
    const noble = () => xchacha20poly1305(heapKey, nonce24).encrypt(plain);
    const sealed = noble();
    const nobleOpen = () => xchacha20poly1305(heapKey, nonce24).decrypt(sealed);
    const message = encrypt(key, plain);
    const chacha = nodeChacha(size, heapKey);
    const withNode = (c: Contenders): Contenders =>
      chacha === undefined ? c : { ...c, "node:crypto (IETF)": chacha };
    rows.push([
      `encrypt ${label}, one-shot`,
      withNode({ secmem: () => void encrypt(key, plain), noble }),
      batches,
      perBatch,
    ]);
    rows.push([
      `decrypt ${label}, one-shot`,
      { secmem: () => decrypt(key, message).destroy(), noble: nobleOpen },
      batches,
      perBatch,
    ]);
    if (aeadRw !== undefined && aeadNa !== undefined) {
      rows.push([
        `encrypt ${label}, aeadKey rest readwrite`,
        withNode({ secmem: () => void aeadRw.encrypt(plain), noble }),
        batches,
        perBatch,
      ]);
      rows.push([
        `encrypt ${label}, aeadKey rest noaccess`,
        withNode({ secmem: () => void aeadNa.encrypt(plain), noble }),
        batches,
        perBatch,
      ]);
      rows.push([
        `decrypt ${label}, aeadKey rest readwrite`,
        { secmem: () => aeadRw.decrypt(message).destroy(), noble: nobleOpen },
        batches,
        perBatch,
      ]);
    }
  }
}
for (const size of [64, 4096]) {
  const data = new Uint8Array(size).fill(1);
  rows.push([
    `hmac SHA-256, ${size} B`,
    {
      secmem: () => void hmac("SHA-256", key, data),
      "node:crypto": () =>
        key.read((k) =>
          nodeCrypto.createHmac("sha256", k).update(data).digest()
        ),
    },
    20,
    50,
  ]);
  rows.push([
    `hmac SHA-512, ${size} B`,
    {
      secmem: () => void hmac("SHA-512", key, data),
      "node:crypto": () =>
        key.read((k) =>
          nodeCrypto.createHmac("sha512", k).update(data).digest()
        ),
    },
    20,
    50,
  ]);
}
rows.push([
  "hkdf SHA-256, 32 B out",
  {
    secmem: () => hkdf("SHA-256", key, { salt, info, length: 32 }).destroy(),
    "node:crypto": () =>
      key.read((k) => nodeCrypto.hkdfSync("sha256", k, salt, info, 32)),
  },
  20,
  50,
]);
rows.push([
  "scryptSync N=2^14 r=8 p=1",
  {
    secmem: () =>
      scryptSync(key, { salt, N: 16384, r: 8, p: 1, length: 32 }, {
        lock: "best-effort",
      }).destroy(),
    "node:crypto": () =>
      key.read((k) =>
        nodeCrypto.scryptSync(k, salt, 32, { N: 16384, r: 8, p: 1 })
      ),
  },
  3,
  1,
]);
for (const size of [64, 4096]) {
  const data = new Uint8Array(size).fill(2);
  const message = encrypt(key, data);
  const sealed = key.read((k) => xchacha20poly1305(k, nonce24).encrypt(data));
  const contenders: Contenders = {
    secmem: () => void encrypt(key, data),
    "noble": () => key.read((k) => xchacha20poly1305(k, nonce24).encrypt(data)),
  };
  const chacha = nodeChacha(size);
  if (chacha !== undefined) contenders["node:crypto (IETF)"] = chacha;
  rows.push([`encrypt ${size} B`, contenders, 20, 50]);
  rows.push([
    `decrypt ${size} B`,
    {
      secmem: () => decrypt(key, message).destroy(),
      "noble": () =>
        key.read((k) => xchacha20poly1305(k, nonce24).decrypt(sealed)),
    },
    20,
    50,
  ]);
}

console.log(
  `crypto benchmark, ${runtimeLabel()} (median wall µs per call, interleaved batches)`,
);
console.log("| workload | secmem | node:crypto | noble |");
console.log("| --- | --- | --- | --- |");
for (const [name, contenders, batches, perBatch] of rows) {
  if (!new RegExp(only).test(name)) continue;
  const t = cpuMicros(contenders, batches, perBatch);
  const cell = (label: string) => {
    const value = t[label] ?? t[`${label} (IETF)`];
    if (value === undefined) return "—";
    const figure = value >= 1000
      ? `${(value / 1000).toFixed(1)} ms`
      : `${value.toFixed(1)} µs`;
    return label === "secmem"
      ? figure
      : `${figure} (secmem ×${(t.secmem / value).toFixed(1)})`;
  };
  console.log(
    `| ${name} | ${cell("secmem")} | ${cell("node:crypto")} | ${
      cell("noble")
    } |`,
  );
}
key.destroy();
