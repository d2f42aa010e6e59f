/**
 * Backend cost: alloc+destroy of a 32-byte buffer on anonymous pages and on
 * memfd_secret pages, and the `auto` backend.
 *
 * Usage: `deno run -A bench/secretmem_bench.ts`, `bun bench/secretmem_bench.ts`.
 * For syscall counts, run one backend for a fixed number of cycles under
 * strace and divide by it:
 * `strace -f -c -o out.txt deno run -A bench/secretmem_bench.ts secretmem 1000`.
 *
 * @module
 */

import { SecretBuffer } from "../mod.ts";
import { args, interleavedMicros, runtimeLabel } from "./_timing.ts";

type Backend = "anonymous" | "secretmem" | "auto";
const [only, cycles] = args();

if (only !== undefined) {
  // Fixed work for strace: exactly `cycles` alloc+destroy.
  const n = Number(cycles ?? 1000);
  for (let i = 0; i < n; i++) {
    SecretBuffer.alloc(32, { backend: only as Backend }).destroy();
  }
} else {
  console.log(`Backend benchmark, ${runtimeLabel()} (median µs per call)`);
  const backends = ["anonymous", "secretmem", "auto"] as const;
  const alloc = interleavedMicros(
    Object.fromEntries(backends.map((backend) => [
      backend,
      () => SecretBuffer.alloc(32, { backend }).destroy(),
    ])),
  );
  const held = backends.map((backend) => SecretBuffer.alloc(32, { backend }));
  const scope = interleavedMicros(
    Object.fromEntries(
      held.map((buffer, i) => [backends[i], () => buffer.read((b) => b[0])]),
    ),
  );
  for (const buffer of held) buffer.destroy();
  for (const backend of backends) {
    console.log(
      `${backend.padEnd(10)} alloc+destroy ${
        alloc[backend].toFixed(1).padStart(6)
      } (x${(alloc[backend] / alloc.anonymous).toFixed(2)})  read scope ${
        scope[backend].toFixed(2).padStart(5)
      }`,
    );
  }
}
