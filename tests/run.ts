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
const tiers: [string, string[]][] = tier === "unit"
  ? [["unit", unit]]
  : tier === "proof"
  ? [["proof", proof]]
  : [["unit", unit], ["proof", proof]];

// A filter that names files (its part before " > ") cuts every tier to
// those files before anything is imported; one that names none (a test's
// title) leaves them whole.
const filter = rest[0];
const filePart = filter?.split(" > ")[0];
const fileOf = (file: string) => file.replace(/^.*\/tests\//, "");
const names = (file: string) =>
  filePart !== undefined && fileOf(file).includes(filePart);
const narrowed = tiers.some(([, files]) => files.some(names));

const totals = { passed: 0, failed: 0, skipped: 0 };
const times: string[] = [];
for (const [name, all] of tiers) {
  const files = narrowed ? all.filter(names) : all;
  if (files.length === 0) continue;
  const started = performance.now();
  const counted = await runFiles(files, filter);
  totals.passed += counted.passed;
  totals.failed += counted.failed;
  totals.skipped += counted.skipped;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  times.push(`${name} tier ${seconds} s (${files.length} files)`);
}
// Read by tests/run_all.sh, which adds up the unit tier's time of the
// Linux runners (the Wine pass, under another label, is proof tier).
const platform = (globalThis as unknown as { process?: { platform?: string } })
  .process?.platform;
const where = platform === "linux" ? "" : ` (${platform})`;
console.log(`${runtime}${where}: ${times.join(", ")}`);
console.log(
  `${runtime}: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
);
if (totals.failed > 0) {
  (globalThis as unknown as { process: { exitCode: number } }).process
    .exitCode = 1;
}
