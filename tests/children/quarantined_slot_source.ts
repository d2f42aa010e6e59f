/**
 * Child for tests/hostile_guarded_test.ts: a slot whose buffer the caller
 * transferred away is destroyed (wiped and quarantined, its page shared
 * with other slots); a view kept over it is then given to `from()` and
 * `pool.from()` inside a neighbour's scope, while the page is readable.
 * Wiping it would fault on a read-only page.
 *
 * Usage: quarantined_slot_source.ts <read|write> [hidden]. With `hidden`,
 * `Set.prototype[Symbol.iterator]` yields nothing while the copies are
 * made (the kept view is a loan in a Set). Prints `copied <n>` per copy
 * and `neighbour intact <bool>`.
 *
 * @module
 */

import { SecretBuffer, SecretPool } from "../../mod.ts";

interface Host {
  Deno?: { args: string[] };
  process: { argv: string[] };
}
const host = globalThis as unknown as Host;
const args = host.Deno?.args ?? host.process.argv.slice(2);
const kind = args[0] as "read" | "write";
if (args[1] === "hidden") {
  Object.defineProperty(Set.prototype, Symbol.iterator, {
    value: function* () {},
  });
}

const pool = new SecretPool();
const escaped = pool.from(new Uint8Array(16).fill(7));
const expected = new Uint8Array(16);
for (let i = 0; i < 16; i++) expected[i] = (i * 41 + 3) & 0xff;
const neighbour = pool.from(expected.slice());
let kept = new ArrayBuffer(0);
escaped.read((view) => {
  kept = (view.buffer as ArrayBuffer).transfer();
});
escaped.destroy();
neighbour[kind](() => {
  for (const source of [new Uint8Array(kept), new Uint8Array(kept, 3)]) {
    const copy = SecretBuffer.from(source);
    console.log(`copied ${copy.size}`);
    copy.destroy();
    const slot = pool.from(source);
    console.log(`copied ${slot.size}`);
    slot.destroy();
  }
});
console.log(`neighbour intact ${neighbour.equals(expected)}`);
neighbour.destroy();
pool.destroy();
