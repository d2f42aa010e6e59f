/**
 * Runs the test files under the current runtime and prints
 * `<runtime>: N passed, N failed, N skipped`; exits 1 on a failure.
 * Usage: `<runtime> tests/run.ts [--tier unit|proof] [filter]` (Deno: with
 * --allow-all).
 *
 * Two tiers, told apart by where a file lies:
 * - unit: `tests/<wing>/*_test.ts`, where `<wing>` is a folder of src/ (or
 *   ffi): one module at a time, against the fake native layer, in seconds;
 * - proof: the top-level `tests/*_test.ts`: children that must die, memory
 *   searched for secrets, real mappings and limits.
 *
 * Without `--tier`, both run (unit first), each file once. The file list is
 * cut to the tier and the filter before any file is imported.
 *
 * @module
 */

import { readdirSync, statSync } from "node:fs";
import { runFiles, runtime } from "./_harness.ts";

const folder = new URL(".", import.meta.url);
const testsIn = (dir: URL): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith("_test.ts"))
    .sort()
    .map((name) => new URL(name, dir).href);
const isDir = (url: URL): boolean => {
  try {
    return statSync(url).isDirectory();
  } catch {
    return false;
  }
};

// The wings the unit tier mirrors: src/'s folders, and ffi/. Other folders
// under tests/ (children, windows, aarch64, vectors) are not test files of
// this runner.
const source = new URL("../src/", folder);
const wings = [
  ...readdirSync(source).filter((name) => isDir(new URL(`${name}/`, source))),
  "ffi",
].sort();
const unit = wings
  .map((wing) => new URL(`${wing}/`, folder))
  .filter(isDir)
  .flatMap(testsIn);
const proof = testsIn(folder);

const args = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : (globalThis as unknown as { process: { argv: string[] } }).process.argv
    .slice(2);

let tier: string | undefined;
const rest: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--tier") tier = args[++i];
  else if (args[i].startsWith("--tier=")) tier = args[i].slice(7);
  else rest.push(args[i]);
}
if (tier !== undefined && tier !== "unit" && tier !== "proof") {
  console.error(
    `tests/run.ts: --tier must be "unit" or "proof", not "${tier}"`,
  );
  (globalThis as unknown as { process: { exit(code: number): never } })
    .process.exit(2);
}
const files = tier === "unit"
  ? unit
  : tier === "proof"
  ? proof
  : [...unit, ...proof];

const totals = await runFiles(files, rest[0]);
console.log(
  `${runtime}: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
);
if (totals.failed > 0) {
  (globalThis as unknown as { process: { exitCode: number } }).process
    .exitCode = 1;
}
