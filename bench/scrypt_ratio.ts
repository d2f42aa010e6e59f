/**
 * scryptSync N=2^14 r=8 p=1 beside node:crypto's, in one process,
 * interleaved: the median CPU milliseconds of the process per call
 * (`process.cpuUsage`, steadier than wall time on a loaded machine) and
 * their ratio. `ROOT` names the clone to measure (default: this one), so
 * a before and an after run the same script.
 *
 * Usage: `ROOT=<clone> <runtime> bench/scrypt_ratio.ts [rounds]`
 * (Deno: `deno run -A`).
 *
 * @module
 */

import nodeCrypto from "node:crypto";
import process from "node:process";

const root = process.env.ROOT ?? new URL("..", import.meta.url).pathname;
const { SecretBuffer } = await import(`${root}/mod.ts`);
const { scryptSync } = await import(`${root}/crypto.ts`);

const rounds = Number(process.argv.at(-1)) || 7;
const salt = new Uint8Array(16).fill(7);
const raw = new TextEncoder().encode("password");
const key = SecretBuffer.from(raw.slice());
const cpu = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const ours: number[] = [];
const theirs: number[] = [];
for (let i = 0; i < rounds; i++) {
  let start = cpu();
  scryptSync(key, { salt, N: 16384, r: 8, p: 1, length: 32 }, {
    lock: "best-effort",
  }).destroy();
  ours.push(cpu() - start);
  start = cpu();
  nodeCrypto.scryptSync(raw, salt, 32, { N: 16384, r: 8, p: 1 });
  theirs.push(cpu() - start);
}
key.destroy();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(
  `scryptSync N=2^14 r=8, CPU ms median of ${rounds}: secmem ${
    median(ours).toFixed(1)
  }, node:crypto ${median(theirs).toFixed(1)}, ratio ${
    (median(ours) / median(theirs)).toFixed(2)
  }`,
);
