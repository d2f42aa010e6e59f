/**
 * Syscalls per operation, from `strace -c -f`: the counts of a run of N
 * iterations minus those of the same run with 0 iterations (same start-up,
 * same set-up, same warm-up), divided by N. Counts include every thread of
 * the runtime, so work the runtime does because of the operation (heap
 * growth, for example) is counted too; background noise shrinks as 1/N.
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Contestant } from "./_contestants.ts";
import { spawn } from "./_spawn.ts";

/** Calls per operation, by syscall name, and their sum. */
export interface SyscallCount {
  total: number;
  bySyscall: Record<string, number>;
}

/** Parses the table `strace -c` writes: calls per syscall name. */
export function parseStraceSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // "% time  seconds  usecs/call  calls  [errors]  syscall"
    if (fields.length < 5 || !/^\d/.test(fields[0])) continue;
    const name = fields[fields.length - 1];
    if (name === "total") continue;
    calls.set(name, Number(fields[3]));
  }
  return calls;
}

function traced(
  contestant: Contestant,
  workload: string,
  iterations: number,
  directory: string,
): Map<string, number> | string {
  const output = join(directory, `${contestant.id}-${workload}-${iterations}`);
  const outcome = spawn(
    contestant,
    ["count", workload, String(iterations)],
    ["strace", "-f", "-c", "-o", output, "--"],
  );
  if (!outcome.ok) return outcome.error;
  return parseStraceSummary(readFileSync(output, "utf8"));
}

/** Syscalls per iteration of `workload`, or why they could not be counted. */
export function countSyscalls(
  contestant: Contestant,
  workload: string,
  iterations: number,
): SyscallCount | string {
  const directory = mkdtempSync(join(tmpdir(), "secmem-strace-"));
  try {
    const base = traced(contestant, workload, 0, directory);
    if (typeof base === "string") return base;
    const loaded = traced(contestant, workload, iterations, directory);
    if (typeof loaded === "string") return loaded;
    const bySyscall: Record<string, number> = {};
    let total = 0;
    for (const name of new Set([...base.keys(), ...loaded.keys()])) {
      const delta = ((loaded.get(name) ?? 0) - (base.get(name) ?? 0)) /
        iterations;
      if (delta === 0) continue;
      bySyscall[name] = delta;
      total += delta;
    }
    return { total, bySyscall };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
