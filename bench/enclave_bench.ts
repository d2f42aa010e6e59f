/**
 * Enclave cost: seal and open of 32 B and 4 KiB, beside `SecretBuffer.from`
 * of the same size (the cost of holding the secret unencrypted).
 *
 * Usage: `deno run -A bench/enclave_bench.ts`, `bun bench/enclave_bench.ts`.
 *
 * @module
 */

import { SecretBuffer } from "../mod.ts";
import { Enclave } from "../enclave.ts";
import { interleavedMicros, runtimeLabel } from "./_timing.ts";

console.log(`Enclave benchmark, ${runtimeLabel()} (median µs per call)`);
console.log("size   from+destroy   seal+destroy   open+destroy");
// Keep one enclave alive so the key is not remade for every seal.
const keeper = Enclave.seal(SecretBuffer.alloc(1));
for (const size of [32, 4096]) {
  const bytes = new Uint8Array(size).fill(7);
  const source = () => SecretBuffer.from(bytes, { wipeSource: false });
  const enclave = Enclave.seal(source());
  const t = interleavedMicros(
    {
      from: () => source().destroy(),
      // Sealing consumes a buffer, so this includes one `from`.
      seal: () => Enclave.seal(source()).destroy(),
      open: () => enclave.open().destroy(),
    },
    20,
    50,
  );
  enclave.destroy();
  const cell = (name: string) =>
    `${t[name].toFixed(1).padStart(6)} (x${(t[name] / t.from).toFixed(1)})`;
  console.log(
    `${String(size).padEnd(6)} ${cell("from")}   ${cell("seal")}   ${
      cell("open")
    }`,
  );
}
keeper.destroy();
console.log(
  "seal+destroy includes the SecretBuffer.from that makes its source.",
);
