/**
 * The benchmark harness. Runs every contestant (libsodium C, sodium-native,
 * secmem under Deno, Bun and Node) through the same workloads, interleaved
 * (for each round and workload, A B C ...; the order rotates), and prints a
 * Markdown report: medians, ratios against libsodium C, syscalls per
 * operation from strace, and memory per 32-byte secret.
 *
 * Start it with `bash bench/run.sh` (which builds the C program and installs
 * sodium-native first); this file runs under Node 26.
 *
 * ```text
 * node bench/run.ts [--quick] [--rounds N] [--warmup-ms MS] [--skip id,id]
 *                   [--pin CPU] [--json FILE]
 * ```
 * `--quick` runs tiny counts once (a smoke test, not a measurement).
 * `--pin CPU` runs every contestant on that one CPU: a diagnostic that
 * takes cross-CPU TLB shootdowns out of the kernel's share.
 * The exit status is 1 when any contestant failed any step.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import process from "node:process";
import { BASELINE, type Contestant, CONTESTANTS } from "./_contestants.ts";
import { render, type Results } from "./_report.ts";
import { measureMemory } from "./_memory.ts";
import { keyValues, spawn } from "./_spawn.ts";
import { countSyscalls } from "./_strace.ts";
import {
  MEMORY_SECRETS,
  runs,
  STRACE_ITERATIONS,
  STRACED,
  STRACED_QUICK,
  type WorkloadInfo,
  WORKLOADS,
} from "./_workloads.ts";

interface Options {
  quick: boolean;
  /** Warm-up time before each timed batch, in milliseconds. */
  warmupMs: number;
  rounds: number;
  skip: string[];
  json?: string;
  /** Run every contestant on this one CPU (`taskset -c`), a diagnostic. */
  pin?: string;
}

function parseOptions(args: string[]): Options {
  const options: Options = {
    quick: false,
    warmupMs: 500,
    rounds: 7,
    skip: [],
  };
  let roundsGiven = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--quick") options.quick = true;
    else if (arg === "--rounds") {
      options.rounds = Number(args[++i]);
      roundsGiven = true;
    } else if (arg === "--skip") options.skip = (args[++i] ?? "").split(",");
    else if (arg === "--json") options.json = args[++i];
    else if (arg === "--pin") options.pin = args[++i];
    else if (arg === "--warmup-ms") options.warmupMs = Number(args[++i]);
    else {
      process.stderr.write(
        `unknown argument ${arg}\nusage: run.ts [--quick] [--rounds N] [--warmup-ms MS] [--skip id,id] [--pin CPU] [--json FILE]\n`,
      );
      process.exit(2);
    }
  }
  if (options.quick && !roundsGiven) options.rounds = 1;
  if (options.quick && !args.includes("--warmup-ms")) options.warmupMs = 0;
  if (!Number.isFinite(options.warmupMs) || options.warmupMs < 0) {
    process.stderr.write("--warmup-ms needs a number of milliseconds\n");
    process.exit(2);
  }
  if (!Number.isSafeInteger(options.rounds) || options.rounds < 1) {
    process.stderr.write("--rounds needs a whole number of at least 1\n");
    process.exit(2);
  }
  return options;
}

function machine(): Results["machine"] {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    nproc: availableParallelism(),
    kernel: execFileSync("uname", ["-r"], { encoding: "utf8" }).trim(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
  };
}

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

const options = parseOptions(process.argv.slice(2));
const size = options.quick ? "quick" : "full";
const results: Results = {
  command: `bash bench/run.sh ${process.argv.slice(2).join(" ")}`.trim(),
  date: new Date().toISOString(),
  machine: machine(),
  load: { before: loadAverage(), after: "" },
  quick: options.quick,
  rounds: options.rounds,
  warmupMs: options.warmupMs,
  pin: options.pin,
  contestants: [],
  versions: {},
  samples: {},
  cpu: {},
  syscalls: {},
  memory: {},
  steps: {},
  failures: [],
};

// 1. Who can run at all: a contestant that cannot print its version is
//    reported and left out, rather than failing every round.
const warmupEnv = { SECMEM_BENCH_WARMUP_MS: String(options.warmupMs) };
const pinned = (c: Contestant): Contestant => ({
  ...c,
  env: { ...c.env, ...warmupEnv },
  command: options.pin === undefined
    ? c.command
    : ["taskset", "-c", options.pin, ...c.command],
});
for (const contestant of CONTESTANTS.map(pinned)) {
  if (options.skip.includes(contestant.id)) continue;
  const outcome = spawn(contestant, ["version"]);
  if (!outcome.ok) {
    results.failures.push(`${contestant.title}: ${outcome.error}`);
    continue;
  }
  results.versions[contestant.id] = outcome.stdout.trim();
  results.contestants.push(contestant);
  results.samples[contestant.id] = {};
  results.cpu[contestant.id] = {};
}
if (!results.contestants.some((c) => c.id === BASELINE)) {
  log(`the baseline (${BASELINE}) cannot run: ${results.failures.join("; ")}`);
  process.exit(1);
}

function timeOne(
  contestant: Contestant,
  workload: WorkloadInfo,
  round: number,
): void {
  const outcome = spawn(contestant, [
    "time",
    `${workload.id}:${workload[size]}`,
  ]);
  const values = outcome.ok ? keyValues(outcome.stdout) : new Map();
  if (!outcome.ok) {
    results.failures.push(
      `${contestant.title}, ${workload.id}, round ${
        round + 1
      }: ${outcome.error}`,
    );
  }
  const [wall, user, sys, thread] = values.get(workload.id) ?? [];
  (results.samples[contestant.id][workload.id] ??= [])[round] = wall ?? NaN;
  const cpu = results.cpu[contestant.id][workload.id] ??= {
    user: [],
    sys: [],
    thread: [],
  };
  cpu.user[round] = user ?? NaN;
  cpu.sys[round] = sys ?? NaN;
  cpu.thread[round] = thread ?? NaN;
}

// 2. Timings, interleaved as finely as processes allow: for each round and
//    each workload, every contestant runs it once, in an order that rotates
//    with the round and the workload, so that the figures a ratio pairs are
//    taken seconds apart and no contestant always goes first.
const field = results.contestants;
for (let round = 0; round < options.rounds; round++) {
  log(`round ${round + 1}/${options.rounds}`);
  WORKLOADS.forEach((workload, index) => {
    for (let k = 0; k < field.length; k++) {
      const contestant = field[(round + index + k) % field.length];
      if (runs(workload, contestant.id)) timeOne(contestant, workload, round);
    }
  });
}

// 3. Syscalls per operation.
for (const contestant of field) {
  results.syscalls[contestant.id] = {};
  for (const workload of options.quick ? STRACED_QUICK : STRACED) {
    const info = WORKLOADS.find((w) => w.id === workload);
    if (info === undefined || !runs(info, contestant.id)) continue;
    log(`strace: ${contestant.title} ${workload}`);
    const count = countSyscalls(
      contestant,
      workload,
      STRACE_ITERATIONS[size],
    );
    if (typeof count === "string") {
      results.failures.push(
        `${contestant.title}, strace ${workload}: ${count}`,
      );
    }
    results.syscalls[contestant.id][workload] = count;
  }
}

// 4. Memory per 32-byte secret, measured from outside each process.
const page = Number(
  execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }),
);
for (const contestant of field) {
  log(`memory: ${contestant.title}`);
  try {
    results.memory[contestant.id] = await measureMemory(
      contestant,
      MEMORY_SECRETS[size],
      page,
    );
  } catch (error) {
    const message = (error as Error).message;
    results.failures.push(`${contestant.title}, memory: ${message}`);
    results.memory[contestant.id] = message;
  }
}

// 5. The kernel's share, call by call, from C (secmem's sequence).
const c = field.find((x) => x.id === BASELINE)!;
const steps: Record<string, number[]> = {};
for (let round = 0; round < Math.min(options.rounds, 5); round++) {
  const outcome = spawn(c, ["steps", String(options.quick ? 500 : 20000)]);
  if (!outcome.ok) {
    results.failures.push(`steps: ${outcome.error}`);
    break;
  }
  for (const [step, [ns]] of keyValues(outcome.stdout)) {
    (steps[step] ??= []).push(ns);
  }
}
results.steps = steps;

results.load.after = loadAverage();
if (options.json !== undefined) {
  writeFileSync(options.json, JSON.stringify(results, null, 2));
}
console.log(render(results));
process.exit(results.failures.length > 0 ? 1 : 0);
