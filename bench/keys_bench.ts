/**
 * The cost of keys that leave no copy: `./keys` beside @noble/curves and
 * node:crypto on the same inputs, median CPU µs per call (alternating
 * batches, one process), with each ratio secmem / other. The contenders
 * get the private key as the SecretBuffer's view (how a user would hand it
 * over, and what leaves copies). The last rows time one reused curve work
 * area (taken and wiped: what every curve call pays now) and one mapped
 * for the call (map, lock, wipe, unmap: what each paid before).
 *
 * Usage: `deno run -A bench/keys_bench.ts`, `bun bench/keys_bench.ts`,
 * `node bench/keys_bench.ts`.
 *
 * @module
 */

import * as nodeCrypto from "node:crypto";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import process from "node:process";
import { SecretBuffer } from "../mod.ts";
import { Ed25519Key, ed25519Verify, X25519Key } from "../keys.ts";
import { LARGE_AREA_SIZE, withWork } from "../src/crypto/_work.ts";
import { runtimeLabel } from "./_timing.ts";

/** Median CPU µs per call of each contender over alternating batches. */
function cpuMicros(
  fns: Record<string, () => void>,
  batches: number,
  perBatch: number,
): Record<string, number> {
  const names = Object.keys(fns);
  const samples: Record<string, number[]> = {};
  for (const name of names) {
    for (let i = 0; i < perBatch * 2; i++) fns[name]();
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

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
const hex = (s: string) =>
  new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));

const seed = SecretBuffer.random(32);
const signer = Ed25519Key.fromSeed(seed);
const message = new Uint8Array(64).fill(7);
const signature = signer.sign(message);
const publicKey = signer.publicKey;
const nodePrivate = seed.read((k) =>
  nodeCrypto.createPrivateKey({
    key: Buffer.from(concat(hex("302e020100300506032b657004220420"), k)),
    format: "der",
    type: "pkcs8",
  })
);
const nodePublic = nodeCrypto.createPublicKey(nodePrivate);

const scalar = SecretBuffer.random(32);
const agreer = X25519Key.fromBytes(scalar);
const peer = X25519Key.generate();
const peerPublic = peer.publicKey;
const nodeX = scalar.read((k) =>
  nodeCrypto.createPrivateKey({
    key: Buffer.from(concat(hex("302e020100300506032b656e04220420"), k)),
    format: "der",
    type: "pkcs8",
  })
);
const nodePeer = nodeCrypto.createPublicKey({
  key: Buffer.from(concat(hex("302a300506032b656e032100"), peerPublic)),
  format: "der",
  type: "spki",
});

type Contenders = Record<string, () => void>;
const rows: [string, Contenders, number, number][] = [
  [
    "Ed25519 sign, 64 B",
    {
      secmem: () => void signer.sign(message),
      noble: () => void seed.read((k) => ed25519.sign(message, k)),
      "node:crypto": () => void nodeCrypto.sign(null, message, nodePrivate),
    },
    15,
    20,
  ],
  [
    "Ed25519 verify, 64 B",
    {
      secmem: () => void ed25519Verify(publicKey, message, signature),
      noble: () => void ed25519.verify(signature, message, publicKey),
      "node:crypto": () =>
        void nodeCrypto.verify(null, message, nodePublic, signature),
    },
    15,
    10,
  ],
  [
    "Ed25519 key from seed",
    {
      secmem: () => Ed25519Key.fromSeed(seed).destroy(),
      noble: () => void seed.read((k) => ed25519.getPublicKey(k)),
    },
    15,
    20,
  ],
  [
    "X25519 agree",
    {
      secmem: () => agreer.agree(peerPublic).destroy(),
      noble: () =>
        void scalar.read((k) => x25519.getSharedSecret(k, peerPublic)),
      "node:crypto": () =>
        void nodeCrypto.diffieHellman({
          privateKey: nodeX,
          publicKey: nodePeer,
        }),
    },
    15,
    10,
  ],
  [
    "X25519 key from bytes",
    {
      secmem: () => X25519Key.fromBytes(scalar).destroy(),
      noble: () => void scalar.read((k) => x25519.getPublicKey(k)),
    },
    15,
    20,
  ],
  [
    "one reused curve work area",
    {
      secmem: () => withWork(LARGE_AREA_SIZE, (area) => area[0]),
    },
    15,
    20,
  ],
  [
    "one mapped work area",
    {
      // Options send the work to a mapping of its own, as every curve
      // call had before the reused large areas.
      secmem: () => withWork(LARGE_AREA_SIZE, (area) => area[0], {}),
    },
    15,
    20,
  ],
];

console.log(
  `keys benchmark, ${runtimeLabel()} (median CPU µs per call, user + system)`,
);
console.log("| workload | secmem | noble | node:crypto |");
console.log("| --- | --- | --- | --- |");
for (const [name, contenders, batches, perBatch] of rows) {
  const t = cpuMicros(contenders, batches, perBatch);
  const cell = (label: string) => {
    const value = t[label];
    if (value === undefined) return "—";
    const figure = value >= 1000
      ? `${(value / 1000).toFixed(2)} ms`
      : `${value.toFixed(0)} µs`;
    return label === "secmem"
      ? figure
      : `${figure} (secmem ×${(t.secmem / value).toFixed(2)})`;
  };
  console.log(
    `| ${name} | ${cell("secmem")} | ${cell("noble")} | ${
      cell("node:crypto")
    } |`,
  );
}
signer.destroy();
agreer.destroy();
peer.destroy();
seed.destroy();
scalar.destroy();
