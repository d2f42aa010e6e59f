/**
 * Runs every `*_test.ts` file in this folder under the current runtime and
 * prints `<runtime>: N passed, N failed, N skipped`; exits 1 on a failure.
 * Usage: `<runtime> tests/run.ts [filter]` (Deno: with --allow-all).
 *
 * @module
 */

import { readdirSync } from "node:fs";
import { runFiles, runtime } from "./_harness.ts";

const folder = new URL(".", import.meta.url);
const files = readdirSync(folder)
  .filter((name) => name.endsWith("_test.ts"))
  .sort()
  .map((name) => new URL(name, folder).href);

const args = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : (globalThis as unknown as { process: { argv: string[] } }).process.argv
    .slice(2);

const totals = await runFiles(files, args[0]);
console.log(
  `${runtime}: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
);
if (totals.failed > 0) {
  (globalThis as unknown as { process: { exitCode: number } }).process
    .exitCode = 1;
}
