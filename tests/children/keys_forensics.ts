/**
 * Child for the keys forensic test. Argument 1: "ed25519" (sign),
 * "x25519" (agree) or "leak" (the negative control); argument 2: "once"
 * or "load" (2,000 calls from 16 concurrent async tasks). Then scans this
 * process's present pages for every secret involved: the seed, the
 * expanded scalar a, the prefix, the per-signature nonce r, the X25519
 * scalar as given and clamped, and the shared secret, each as bytes and
 * as its 32-bit words boxed as doubles; first with the key alive and at
 * rest (no forced GC), leaving out the secrets' own guarded pages, then
 * after every key and buffer is destroyed, leaving out nothing. The
 * expected secrets are computed here in guarded memory too, with the
 * library's own SHA-512 and scalar reduction. Prints one JSON line.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import { type Ed25519Key, X25519Key } from "../../keys.ts";
import { ed25519KeyFromOwnedSeed } from "../../src/keys/ed25519.ts";
import { x25519KeyFromOwnedBytes } from "../../src/keys/x25519.ts";
import { SHA512 } from "../../src/crypto/_sha2.ts";
import { withWork } from "../../src/crypto/_work.ts";
import { reduceWide, SC_WIDE } from "../../src/keys/_scalar.ts";
import { needleOf } from "../_forensics.ts";
import { type Needle, scanMemoryAll } from "../../src/doctor/_scan.ts";
import {
  boxedWordNeedles,
  countBoxed,
  leakOneWord,
  underLoad,
} from "../_boxed.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const args = host.Deno?.args ?? host.process.argv.slice(2);
const fn = args[0];
const load = args[1] === "load";
const TASKS = 16;
const CALLS = load ? 2000 : 1;

const before = stats();
const control = new Uint8Array(48).map((_, i) => (i * 151 + 7) & 0xff);
const message = new TextEncoder().encode("a message to sign, public");

// The secrets, each in a SecretBuffer whose address the scan leaves out
// while it is alive. The keys own `seed` and `scalar` (no copy is made).
const seed = SecretBuffer.random(32);
const scalar = SecretBuffer.random(32);
const signer: Ed25519Key = ed25519KeyFromOwnedSeed(seed);
const agreer: X25519Key = x25519KeyFromOwnedBytes(scalar);
const peer = X25519Key.generate();
const peerPublic = peer.publicKey;

/** SHA-512(seed), clamped: a || prefix, computed in guarded memory. */
const expanded = SecretBuffer.alloc(64);
expanded.write((out) =>
  seed.read((s) =>
    withWork(SHA512.stateSize, (area) => {
      const h = SHA512.create(area, 0);
      h.update(s, 0, 32);
      h.finish(out, 0);
    })
  )
);
expanded.write((e) => {
  e[0] &= 248;
  e[31] &= 127;
  e[31] |= 64;
});
const scalarA = SecretBuffer.alloc(32);
const prefix = SecretBuffer.alloc(32);
scalarA.write((a) => expanded.read((e) => a.set(e.subarray(0, 32))));
prefix.write((p) => expanded.read((e) => p.set(e.subarray(32, 64))));

/** r = SHA-512(prefix || M) mod L, computed in guarded memory. */
const nonce = SecretBuffer.alloc(32);
nonce.write((r) =>
  prefix.read((p) =>
    withWork(SHA512.stateSize + 64 + 4 * 128, (area) => {
      const h = SHA512.create(area, 0);
      h.update(p, 0, 32);
      h.update(message, 0, message.length);
      h.finish(area, SHA512.stateSize);
      const w = new Int32Array(
        area.buffer,
        area.byteOffset + SHA512.stateSize + 64,
        SC_WIDE + 66,
      );
      reduceWide(w, 0, area, SHA512.stateSize, r, 0);
    })
  )
);

/** The X25519 scalar as the ladder uses it (clamped). */
const clamped = SecretBuffer.alloc(32);
clamped.write((c) =>
  scalar.read((s) => {
    c.set(s);
    c[0] &= 248;
    c[31] &= 127;
    c[31] |= 64;
  })
);

const live: SecretBuffer[] = [
  seed,
  scalar,
  expanded,
  scalarA,
  prefix,
  nonce,
  clamped,
];
let shared: SecretBuffer | undefined;
const leaked: Uint8Array[] = [];
let leakedWord = 0;

async function call(keep: boolean): Promise<void> {
  switch (fn) {
    case "ed25519":
      signer.sign(message);
      break;
    case "x25519": {
      const out = agreer.agree(peerPublic);
      if (keep) shared = out;
      else out.destroy();
      break;
    }
    case "leak":
      if (leaked.length === 0) leaked.push(seed.read((k) => k.slice()));
      if (leakedWord === 0) leakedWord = seed.read(leakOneWord);
      break;
    default:
      throw new Error(`unknown function ${fn}`);
  }
  await undefined;
}

await call(true);
await underLoad(TASKS, CALLS, () => call(false));
if (shared !== undefined) live.push(shared);

const owners: Record<string, SecretBuffer> = {
  seed,
  expandedA: scalarA,
  prefix,
  nonce,
  x25519Scalar: scalar,
  x25519Clamped: clamped,
};
if (shared !== undefined) owners.shared = shared;
const names = Object.keys(owners);
const needles: Needle[] = names.map((name) => needleOf(owners[name]));
const boxed: Record<string, Needle[]> = {};
for (const name of names) {
  boxed[name] = owners[name].read((bytes) => boxedWordNeedles(bytes, 0));
}
const boxedNeedles = names.flatMap((name) => boxed[name]);
const boxedCounts = (results: { hits: bigint[] }[]) =>
  countBoxed(boxed, results);
const rangeOf = (b: SecretBuffer): [bigint, bigint] => [
  b.address,
  b.address + BigInt(b.size),
];

// Alive, at rest, no forced GC: hits outside the live guarded pages.
const all = scanMemoryAll([...needles, ...boxedNeedles]);
const own = live.map(rangeOf);
const alive: Record<string, number> = {};
const inOwnPage: Record<string, number> = {};
names.forEach((name, i) => {
  const hits = all[i].hits;
  alive[name] = hits.filter((a) => !own.some(([s, e]) => s <= a && a < e))
    .length;
  const [s, e] = rangeOf(owners[name]);
  inOwnPage[name] = hits.filter((a) => s <= a && a < e).length;
});
const boxedAlive = boxedCounts(all.slice(names.length));

signer.destroy();
agreer.destroy();
peer.destroy();
for (const buffer of live) buffer.destroy();
const after = scanMemoryAll([...needles, needleOf(control), ...boxedNeedles]);
const destroyed: Record<string, number> = {};
names.forEach((name, i) => destroyed[name] = after[i].hits.length);
const boxedDestroyed = boxedCounts(after.slice(names.length + 1));

console.log(JSON.stringify({
  fn,
  calls: CALLS,
  alive,
  destroyed,
  inOwnPage,
  boxedAlive,
  boxedDestroyed,
  leakedWord: leakedWord !== 0,
  heapControl: after[names.length].hits.length,
  keysDestroyed: signer.destroyed && agreer.destroyed,
  statsRestored: JSON.stringify(stats()) === JSON.stringify(before),
}));
