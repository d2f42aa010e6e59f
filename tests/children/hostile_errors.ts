/**
 * Child for tests/hostile_errors_test.ts, run without CAP_IPC_LOCK under a
 * 64 KiB RLIMIT_MEMLOCK: allocates one-page buffers until the lock limit
 * refuses one, and prints that error (code and message) as one JSON line.
 * `configure` as the first argument calls `configure({ lock: "required" })`
 * first. Deno may run it without any env permission: it reads none itself.
 *
 * @module
 */

import { configure, SecretBuffer, SecretMemoryError } from "../../mod.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const args = host.Deno?.args ?? host.process.argv.slice(2);
if (args[0] === "configure") configure({ lock: "required" });

const kept: SecretBuffer[] = [];
let outcome: { code: string; message: string; made: number } | undefined;
try {
  for (let i = 0; i < 100; i++) kept.push(SecretBuffer.alloc(4000));
} catch (error) {
  outcome = error instanceof SecretMemoryError
    ? { code: error.code, message: error.message, made: kept.length }
    : { code: "NOT_SECMEM", message: String(error), made: kept.length };
} finally {
  for (const buffer of kept) buffer.destroy();
}
console.log(
  JSON.stringify(outcome ?? { code: "NONE", message: "", made: kept.length }),
);
