/**
 * Child for tests/hostile_review_r10_test.ts: a pool's second slot is
 * first viewed, inside a read of the first, under a `Math.floor` replaced
 * after import that answers -i for slot i's page (i / slots per page):
 * its offset then came out as the first slot's. Prints `read <bytes>`,
 * what the second slot (fresh, so zeros) read; a crash (a view over a
 * closed page) fails the test as well.
 *
 * @module
 */

import { SecretPool } from "../../mod.ts";

const pool = new SecretPool();
using first = pool.from(new Uint8Array(16).fill(0x5a));
using second = pool.alloc(16);
const real = Math.floor;
const round = Math.round;
// Slots of 16 bytes with a 16-byte canary each: pageSize / 32 - 1 a page,
// whichever of the page sizes the machine has.
const perPage = [4096, 16384, 65536].map((page) => page / 32 - 1);
const faulty = (x: number): number => {
  if (x > 0 && x < 1) {
    for (let k = 0; k < perPage.length; k++) {
      const i = round(x * perPage[k]);
      if (i > 0 && x === i / perPage[k]) return -i;
    }
  }
  return real(x);
};
let read: number[];
Math.floor = faulty;
try {
  read = first.read(() => second.read((bytes) => Array.from(bytes)));
} finally {
  Math.floor = real;
}
console.log(`read ${read.join(",")}`);
