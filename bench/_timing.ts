/**
 * Timing for the defence benchmarks: the median of batch means, so one
 * slow batch on a shared machine does not move the figure.
 *
 * @module
 */

/** Median time per call of `fn`, in microseconds. */
export function medianMicros(
  fn: () => void,
  batches = 20,
  perBatch = 100,
): number {
  for (let i = 0; i < perBatch; i++) fn(); // warm up the JIT
  const means: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    means.push(((performance.now() - start) * 1000) / perBatch);
  }
  means.sort((a, b) => a - b);
  return means[Math.floor(means.length / 2)];
}

/**
 * Median time per call of each function, in microseconds, measured in
 * alternating batches so that a noisy neighbour slows all of them alike.
 */
export function interleavedMicros(
  fns: Record<string, () => void>,
  batches = 40,
  perBatch = 100,
): Record<string, number> {
  const names = Object.keys(fns);
  const means: Record<string, number[]> = {};
  for (const name of names) {
    for (let i = 0; i < perBatch; i++) fns[name]();
    means[name] = [];
  }
  for (let b = 0; b < batches; b++) {
    for (const name of names) {
      const start = performance.now();
      for (let i = 0; i < perBatch; i++) fns[name]();
      means[name].push(((performance.now() - start) * 1000) / perBatch);
    }
  }
  const result: Record<string, number> = {};
  for (const name of names) {
    const sorted = means[name].sort((a, b) => a - b);
    result[name] = sorted[Math.floor(sorted.length / 2)];
  }
  return result;
}

/** The command-line arguments after the script, in any runtime. */
export function args(): string[] {
  const host = globalThis as unknown as {
    Deno?: { args: string[] };
    process?: { argv: string[] };
  };
  return host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
}

/**
 * The arguments of a script that compares two trees in one process:
 * `BEFORE_DIR AFTER_DIR [ROUNDS]` (flags ignored); exits 2 with `usage`
 * when a tree is missing.
 */
export function twoTrees(
  usage: string,
  defaultRounds: number,
): { beforeDir: string; afterDir: string; rounds: number } {
  const [beforeDir, afterDir, roundsText] = args().filter((a) =>
    !a.startsWith("-")
  );
  if (beforeDir === undefined || afterDir === undefined) {
    console.error(`usage: ${usage} BEFORE_DIR AFTER_DIR [ROUNDS]`);
    const host = globalThis as unknown as {
      Deno?: { exit(code: number): never };
      process?: { exit(code: number): never };
    };
    (host.Deno ?? host.process)!.exit(2);
  }
  return { beforeDir, afterDir, rounds: Number(roundsText ?? defaultRounds) };
}

/** The runtime's name and version, for the report. */
export function runtimeLabel(): string {
  const host = globalThis as unknown as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
    process?: { version: string };
  };
  if (host.Deno) return `deno ${host.Deno.version.deno}`;
  if (host.Bun) return `bun ${host.Bun.version}`;
  return `node ${host.process?.version}`;
}
