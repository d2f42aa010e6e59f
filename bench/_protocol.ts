/**
 * The command-line protocol every JavaScript contestant of the benchmark
 * speaks (the C contestant, `sodium_bench.c`, speaks the same one):
 *
 * ```text
 * time WORKLOAD:ITERATIONS ...  one line "WORKLOAD NS USER_NS SYS_NS
 *                               THREAD_NS" per workload, each per operation:
 *                               wall-clock; CPU time of the whole process
 *                               (every thread) in user space and in the
 *                               kernel; CPU time of the main thread
 * count WORKLOAD ITERATIONS     warm-up, then ITERATIONS, no output
 *                               (run under strace; ITERATIONS = 0 is the
 *                               baseline subtracted from the count)
 * memory COUNT                  prints "ready", waits for a line on stdin,
 *                               allocates COUNT 32-byte secrets, prints
 *                               "held", waits for a line, frees them
 * version                       the runtime and library versions
 * ```
 *
 * Runs under Deno, Bun and Node alike: only `node:` built-ins are used.
 *
 * @module
 */

import { readSync } from "node:fs";
import process from "node:process";
import { threadCpuClock } from "./_raw_ffi.ts";

/**
 * Warm-up iterations before the counted iterations of `count` (the same in
 * both strace runs, as in the C program). A timed batch is warmed up by
 * `warmUp` below.
 */
export const WARMUP = 200;

/** One workload: what it keeps alive, and the loop that is timed. */
export interface Workload {
  /** Runs `n` iterations; may be async (sodium-native waits for finalizers). */
  run(n: number): void | Promise<void>;
  /** Releases what the workload kept alive. */
  teardown?(): void | Promise<void>;
}

/** What a contestant provides: workloads by name, and one 32-byte secret. */
export interface Contestant {
  /** Builds a workload (allocating what it keeps alive), by name. */
  workloads: Record<string, () => Workload>;
  /** Makes one 32-byte secret and returns how to free it. */
  secret32(): () => void;
  /** Free-form version line. */
  version(): string;
}

/**
 * Milliseconds of warm-up before each timed batch, from the environment
 * (`SECMEM_BENCH_WARMUP_MS`, set by the harness; 0 when unset).
 */
function warmupMs(): number {
  const value = Number(process.env.SECMEM_BENCH_WARMUP_MS ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Runs a workload until the JIT has settled: batches of max(WARMUP, N/10)
 * iterations until the warm-up time has passed (at least one batch). Bun
 * needs about 15,000 alloc+destroy iterations before its times settle.
 */
async function warmUp(workload: Workload, n: number): Promise<void> {
  const batch = Math.max(WARMUP, Math.ceil(n / 10));
  const until = performance.now() + warmupMs();
  do {
    await workload.run(batch);
  } while (performance.now() < until);
}

/** Parses a non-negative integer argument or exits with a usage error. */
function count(text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isSafeInteger(value) || value < 0) {
    usage(`not an iteration count: ${text}`);
  }
  return value;
}

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: time WORKLOAD:N ... | count WORKLOAD N | memory COUNT | version\n`,
  );
  process.exit(2);
}

function build(contestant: Contestant, name: string): Workload {
  const make = contestant.workloads[name];
  if (make === undefined) usage(`unknown workload: ${name}`);
  return make();
}

/** Blocks until the harness writes a line (it reads /proc/PID meanwhile). */
function awaitHarness(): void {
  const byte = new Uint8Array(1);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let read: number;
    try {
      read = readSync(0, byte, 0, 1, null);
    } catch (error) {
      // Node leaves a piped stdin non-blocking: wait a millisecond, retry.
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1);
      continue;
    }
    if (read === 0 || byte[0] === 10) return;
  }
}

/**
 * Holds `n` 32-byte secrets while the harness measures the process from
 * outside (`_memory.ts`), so that every contestant is measured by the same
 * code: "ready", wait, allocate, "held", wait, free.
 */
function memory(contestant: Contestant, n: number): void {
  const frees: Array<() => void> = new Array(n);
  console.log("ready");
  awaitHarness();
  for (let i = 0; i < n; i++) frees[i] = contestant.secret32();
  console.log("held");
  awaitHarness();
  for (const free of frees) free();
}

/** Runs the protocol for `contestant` on the process's arguments. */
export async function main(contestant: Contestant): Promise<void> {
  const threadCpu = threadCpuClock();
  const [mode, ...args] = process.argv.slice(2);
  if (mode === "version") {
    console.log(contestant.version());
  } else if (mode === "memory") {
    memory(contestant, count(args[0]));
  } else if (mode === "count") {
    const workload = build(contestant, args[0]);
    const n = count(args[1]);
    await workload.run(WARMUP);
    await workload.run(n);
    await workload.teardown?.();
  } else if (mode === "time" && args.length > 0) {
    for (const spec of args) {
      const [name, iterations] = spec.split(":");
      const n = count(iterations);
      if (n === 0) usage("cannot time zero iterations");
      const workload = build(contestant, name);
      await warmUp(workload, n);
      const cpu = process.cpuUsage();
      const thread0 = threadCpu();
      const start = performance.now();
      await workload.run(n);
      const elapsed = performance.now() - start;
      const thread = threadCpu() - thread0;
      const { user, system } = process.cpuUsage(cpu);
      await workload.teardown?.();
      const per = (ns: number) => (ns / n).toFixed(1);
      console.log(
        `${name} ${per(elapsed * 1e6)} ${per(user * 1e3)} ${
          per(system * 1e3)
        } ${per(thread)}`,
      );
    }
  } else {
    usage(`unknown mode: ${mode}`);
  }
}
