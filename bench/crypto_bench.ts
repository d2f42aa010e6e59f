/**
 * The cost of staying clean: each `./crypto` function beside node:crypto
 * and @noble/ciphers on the same inputs, median CPU µs per call
 * (alternating batches). The contenders get the key as the SecretBuffer's view, which
 * is how a user would hand it over (and what leaves copies; see
 * docs/interop.md).
 *
 * Usage: `deno run -A bench/crypto_bench.ts`, `bun bench/crypto_bench.ts`,
 * `node bench/crypto_bench.ts`.
 *
 * @module
 */

import * as nodeCrypto from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { SecretBuffer } from "../mod.ts";
import { decrypt, encrypt, hkdf, hmac, scryptSync } from "../crypto.ts";
import process from "node:process";
import { runtimeLabel } from "./_timing.ts";

/**
 * Median µs per call of each contender over alternating batches, in
 * process CPU time (user + system, `process.cpuUsage`): on a shared
 * machine, time spent waiting for a CPU is not the contender's.
 */
function cpuMicros(
  fns: Record<string, () => void>,
  batches: number,
  perBatch: number,
): Record<string, number> {
  const names = Object.keys(fns);
  const samples: Record<string, number[]> = {};
  for (const name of names) {
    for (let i = 0; i < perBatch; i++) fns[name]();
    samples[name] = [];
  }
  for (let b = 0; b < batches; b++) {
    for (const name of names) {
      const start = process.cpuUsage();
      for (let i = 0; i < perBatch; i++) fns[name]();
      const used = process.cpuUsage(start);
      samples[name].push((used.user + used.system) / perBatch);
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

const nodeChacha = (size: number): (() => void) | undefined => {
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

const rows: [string, Contenders, number, number][] = [];
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
  `crypto benchmark, ${runtimeLabel()} (median CPU µs per call, user + system)`,
);
console.log("| workload | secmem | node:crypto | noble |");
console.log("| --- | --- | --- | --- |");
for (const [name, contenders, batches, perBatch] of rows) {
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
