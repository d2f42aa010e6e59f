/**
 * Starts one contestant process and returns its output, or why it failed.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import process from "node:process";
import type { Contestant } from "./_contestants.ts";

/** What a finished process printed, or the reason it did not finish well. */
export type Outcome =
  | { ok: true; stdout: string }
  | { ok: false; error: string };

/** No single contestant run may take longer than this. */
const TIMEOUT_MS = 10 * 60 * 1000;

/** Runs `prefix` + the contestant's command + `args`. */
export function spawn(
  contestant: Contestant,
  args: readonly string[],
  prefix: readonly string[] = [],
): Outcome {
  const [file, ...rest] = [...prefix, ...contestant.command, ...args];
  const result = spawnSync(file, rest, {
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1", ...contestant.env },
  });
  if (result.error !== undefined) {
    return { ok: false, error: result.error.message };
  }
  if (result.status !== 0) {
    const why = result.signal !== null
      ? `killed by ${result.signal}`
      : `exit status ${result.status}`;
    return { ok: false, error: `${why}: ${firstError(result.stderr)}` };
  }
  return { ok: true, stdout: result.stdout };
}

/** Parses "key value value ..." lines into numbers. */
export function keyValues(stdout: string): Map<string, number[]> {
  const values = new Map<string, number[]>();
  for (const line of stdout.trim().split("\n")) {
    const [key, ...fields] = line.trim().split(/\s+/);
    const numbers = fields.map(Number);
    if (key && numbers.length > 0 && numbers.every(Number.isFinite)) {
      values.set(key, numbers);
    }
  }
  return values;
}

/** Lines that name an error, the most telling first. */
const NAMING: readonly RegExp[] = [
  /^(\w*Error\b|error:|\S+: cannot)/,
  /Check failed|unreachable code|Segmentation fault/,
  /Fatal error/,
];

/** The line of `stderr` that names the error, else its last line. */
export function firstError(stderr: string): string {
  const lines = stderr.trim().split("\n").map((line) => line.trim());
  // A V8 fatal error prints "# Check failed: ..." (or "# unreachable code")
  // under a "# Fatal error" banner; a crash report names the fault.
  const named = NAMING.map((pattern) =>
    lines.find((line) => pattern.test(line))
  ).find((line) => line !== undefined);
  return (named ?? lines[lines.length - 1] ?? "").slice(0, 300);
}
