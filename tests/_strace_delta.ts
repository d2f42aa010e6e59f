/**
 * System calls per operation, by outcome: `strace -f -c` over a child that
 * repeats one workload N times, minus the same child with 0 (same start-up
 * and warm-up), by call name. Shared by the tests that assert counts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStraceSummary } from "../bench/_strace.ts";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { runtime } from "./_harness.ts";

/**
 * The calls `tests/children/<child>` makes for `workload` run `count`
 * times, minus those of 0 times; prints them per operation.
 */
export function straceDelta(
  child: string,
  workload: string,
  count: number,
): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), "secmem-strace-"));
  try {
    const counts = (n: number) => {
      const out = join(dir, `strace-${n}`);
      const command = runtimeCommand(childScript(child), [
        workload,
        String(n),
      ]);
      const run = runChild("", [], {
        commandOverride: ["strace", "-f", "-c", "-o", out, "--", ...command],
        timeout: 300_000,
      });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      return parseStraceSummary(readFileSync(out, "utf8"));
    };
    const base = counts(0);
    const loaded = counts(count);
    const delta = new Map<string, number>();
    for (const name of new Set([...base.keys(), ...loaded.keys()])) {
      const d = (loaded.get(name) ?? 0) - (base.get(name) ?? 0);
      if (d !== 0) delta.set(name, d);
    }
    const shown = [...delta].map(([n, d]) => `${n} ${(d / count).toFixed(3)}`);
    console.log(`[${runtime}]   ${workload} per op: ${shown.join(", ")}`);
    return delta;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
