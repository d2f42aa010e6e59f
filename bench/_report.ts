/**
 * Turns the raw results of a run into the Markdown report: timings with
 * ratios against libsodium C, the profile of where secmem's time goes,
 * syscalls, memory per secret, the issue's targets, and the spread.
 *
 * @module
 */

import { BASELINE, type Contestant } from "./_contestants.ts";
import type { MemoryCost } from "./_memory.ts";
import { median, pairedRatio, spread } from "./_stats.ts";
import type { SyscallCount } from "./_strace.ts";
import { runs, STRACED, WORKLOADS } from "./_workloads.ts";

/** Everything one run measured. */
export interface Results {
  command: string;
  date: string;
  machine: { nproc: number; kernel: string; cpu: string };
  /** /proc/loadavg (1, 5, 15 minutes) when the run started and ended. */
  load: { before: string; after: string };
  quick: boolean;
  rounds: number;
  warmupMs: number;
  pin?: string;
  contestants: Contestant[];
  versions: Record<string, string>;
  /** Nanoseconds per op, one entry per round (NaN: that round failed). */
  samples: Record<string, Record<string, number[]>>;
  /**
   * CPU nanoseconds per op, per round: user and kernel time of the whole
   * process, and the main thread's CPU time (user + kernel).
   */
  cpu: Record<
    string,
    Record<string, { user: number[]; sys: number[]; thread: number[] }>
  >;
  syscalls: Record<string, Record<string, SyscallCount | string>>;
  memory: Record<string, MemoryCost | string>;
  /** Nanoseconds of each of secmem's calls timed alone from C, per run. */
  steps: Record<string, number[]>;
  failures: string[];
}

/** Nanoseconds as a short human figure. */
function time(ns: number): string {
  if (!Number.isFinite(ns)) return "n/a";
  if (Math.abs(ns) < 1000) return `${ns.toFixed(Math.abs(ns) < 10 ? 1 : 0)} ns`;
  const us = ns / 1000;
  return `${us.toFixed(Math.abs(us) < 10 ? 2 : 1)} µs`;
}

const ratio = (r: number): string =>
  Number.isFinite(r) ? `${r.toFixed(2)}x` : "n/a";

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
  ].join("\n");
}

/** Which figure a table shows: wall-clock or the main thread's CPU time. */
type Metric = "wall" | "thread";

function series(
  results: Results,
  id: string,
  workload: string,
  metric: Metric,
): number[] {
  return (metric === "wall"
    ? results.samples[id]?.[workload]
    : results.cpu[id]?.[workload]?.thread) ?? [];
}

function cell(
  results: Results,
  id: string,
  workload: string,
  metric: Metric = "wall",
): number {
  return median(series(results, id, workload, metric));
}

function ratioOf(
  results: Results,
  id: string,
  workload: string,
  metric: Metric = "wall",
): number {
  return pairedRatio(
    series(results, id, workload, metric),
    series(results, BASELINE, workload, metric),
  );
}

function timings(
  results: Results,
  profile: boolean,
  metric: Metric = "wall",
): string {
  const header = ["workload", ...results.contestants.map((c) => c.title)];
  const rows = WORKLOADS.filter((w) => (w.profile ?? false) === profile).map(
    (w) => [
      w.label,
      ...results.contestants.map((c) => {
        if (!runs(w, c.id)) return "—";
        const ns = cell(results, c.id, w.id, metric);
        if (c.id === BASELINE || profile || !runs(w, BASELINE)) {
          return time(ns);
        }
        return `${time(ns)} (${ratio(ratioOf(results, c.id, w.id, metric))})`;
      }),
    ],
  );
  return table(header, rows);
}

/**
 * Differences that say where secmem's time goes, per runtime, in the main
 * thread's CPU time (steadier than wall-clock on a shared machine).
 */
function breakdown(results: Results): string {
  const cell = (r: Results, id: string, w: string) =>
    median(series(r, id, w, "thread"));
  const secmem = results.contestants.filter((c) =>
    c.id !== BASELINE && c.id !== "sodium-native"
  );
  const c = (w: string) => cell(results, BASELINE, w);
  const lines: Array<[string, (id: string) => number]> = [
    [
      "alloc+destroy 32 B over libsodium C (alloc32 − C alloc32)",
      (id) => cell(results, id, "alloc32") - c("alloc32"),
    ],
    [
      "secmem's calls vs libsodium's, both from C (C floor32 − C alloc32)",
      () => c("floor32") - c("alloc32"),
    ],
    [
      "runtime FFI + kernel in this process (floor32_raw − C floor32)",
      (id) => cell(results, id, "floor32_raw") - c("floor32"),
    ],
    [
      "secmem's adapter layer (floor32 − floor32_raw)",
      (id) => cell(results, id, "floor32") - cell(results, id, "floor32_raw"),
    ],
    [
      "SecretBuffer's own work (alloc32 − floor32)",
      (id) => cell(results, id, "alloc32") - cell(results, id, "floor32"),
    ],
    [
      "…of it, views + canary + registry measured alone (part_*)",
      (id) =>
        cell(results, id, "part_views") + cell(results, id, "part_canary") +
        cell(results, id, "part_registry"),
    ],
    [
      "runtime FFI cost per call (getpid − C getpid)",
      (id) => cell(results, id, "getpid") - c("getpid"),
    ],
    [
      "secmem adapter + FFI per call (ffi_ptr − C ffi_ptr)",
      (id) => cell(results, id, "ffi_ptr") - c("ffi_ptr"),
    ],
    [
      "read scope over the C toggle pair (read − C read)",
      (id) => cell(results, id, "read") - c("read"),
    ],
    [
      "…secmem's 2 mprotects from C (C toggle_raw − C read)",
      () => c("toggle_raw") - c("read"),
    ],
    [
      "…the same from this runtime, raw FFI (toggle_raw − C toggle_raw)",
      (id) => cell(results, id, "toggle_raw") - c("toggle_raw"),
    ],
    [
      "…secmem's adapter + scope logic (read − toggle_raw)",
      (id) => cell(results, id, "read") - cell(results, id, "toggle_raw"),
    ],
  ];
  return table(
    [
      "difference of medians (main-thread CPU)",
      ...secmem.map((s) => s.title),
    ],
    lines.map(([label, f]) => [label, ...secmem.map((s) => time(f(s.id)))]),
  );
}

function steps(results: Results): string {
  const rows = Object.entries(results.steps).map(([step, values]) => [
    step.replaceAll("_", " "),
    time(median(values)),
  ]);
  const total = Object.values(results.steps).reduce(
    (sum, values) => sum + median(values),
    0,
  );
  return table(["call (C, secmem's layout)", "median"], [
    ...rows,
    ["**total**", time(total)],
  ]);
}

/** Workloads whose CPU time is split into user and kernel in the report. */
const CPU_SPLIT = [
  "alloc32",
  "floor32",
  "floor32_raw",
  "read",
  "toggle_raw",
  "random32",
  "eq32",
];

function cpuSplit(results: Results): string {
  const labels = new Map(WORKLOADS.map((w) => [w.id, w.label]));
  return table(
    ["workload", ...results.contestants.map((c) => c.title)],
    CPU_SPLIT.map((w) => [
      `${w}: ${labels.get(w)}`,
      ...results.contestants.map((c) => {
        const cpu = results.cpu[c.id]?.[w];
        if (cpu === undefined) return "—";
        return `${time(median(cpu.user))} + ${time(median(cpu.sys))}`;
      }),
    ]),
  );
}

function syscallCell(count: SyscallCount | string | undefined): string {
  if (count === undefined) return "—";
  if (typeof count === "string") return `n/a (${count})`;
  const parts = Object.entries(count.bySyscall)
    .filter(([, n]) => Math.abs(n) >= 0.05)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `${name} ${+n.toFixed(2)}`);
  return `**${count.total.toFixed(2)}**: ${parts.join(", ")}`;
}

function syscalls(results: Results): string {
  const labels = new Map(WORKLOADS.map((w) => [w.id, w.label]));
  return table(
    ["contestant", ...STRACED.map((w) => labels.get(w) ?? w)],
    results.contestants.map((c) => [
      c.title,
      ...STRACED.map((w) => syscallCell(results.syscalls[c.id]?.[w])),
    ]),
  );
}

function memory(results: Results): string {
  return table(
    [
      "contestant",
      "pages in the secret's mappings",
      "pages mapped, whole process",
      "pages resident, whole process",
      "bytes locked",
      "VMAs",
    ],
    results.contestants.map((c) => {
      const m = results.memory[c.id];
      if (m === undefined || typeof m === "string") {
        return [c.title, `n/a${m ? ` (${m})` : ""}`, "", "", "", ""];
      }
      return [
        c.title,
        m.layout.toFixed(2),
        m.mapped.toFixed(2),
        m.resident.toFixed(2),
        m.locked.toFixed(0),
        m.vmas.toFixed(2),
      ];
    }),
  );
}

/**
 * The calls a guarded allocator makes itself. The rest (futex, for one)
 * is the runtime's own background work; a fraction of an mmap or madvise
 * per operation is its garbage collector, which is why the verdict rounds.
 */
const MEMORY_CALLS = [
  "mmap",
  "mprotect",
  "madvise",
  "munmap",
  "mlock",
  "munlock",
  "getrandom",
];

function memoryCalls(count: SyscallCount): number {
  return MEMORY_CALLS.reduce((sum, n) => sum + (count.bySyscall[n] ?? 0), 0);
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? "not measured" : ok ? "met" : "**missed**";
}

function targets(results: Results): string {
  const rows: string[][] = [];
  for (const id of ["deno", "bun", "node"]) {
    const c = results.contestants.find((x) => x.id === id);
    if (c === undefined) continue;
    const alloc = ratioOf(results, id, "alloc32");
    const read = ratioOf(results, id, "read");
    const allocCpu = ratioOf(results, id, "alloc32", "thread");
    const readCpu = ratioOf(results, id, "read", "thread");
    const calls = results.syscalls[id]?.alloc32;
    const m = results.memory[id];
    const pages = typeof m === "object" ? m.layout : NaN;
    const known = (x: number) => Number.isFinite(x);
    rows.push(
      [
        c.title,
        "alloc+destroy 32 B ≤ 0.75x C (wall-clock)",
        ratio(alloc),
        verdict(known(alloc) ? alloc <= 0.75 : undefined),
      ],
      [
        c.title,
        "alloc+destroy 32 B ≤ 0.75x C (main-thread CPU)",
        ratio(allocCpu),
        verdict(known(allocCpu) ? allocCpu <= 0.75 : undefined),
      ],
      [
        c.title,
        "syscalls per alloc+destroy ≤ 7",
        typeof calls === "object"
          ? `${calls.total.toFixed(2)} in all, ${
            memoryCalls(calls).toFixed(2)
          } memory calls`
          : "n/a",
        verdict(
          typeof calls === "object"
            ? Math.round(memoryCalls(calls)) <= 7
            : undefined,
        ),
      ],
      [
        c.title,
        "pages per 32 B secret ≤ 3",
        known(pages) ? pages.toFixed(2) : "n/a",
        verdict(known(pages) ? pages <= 3.05 : undefined),
      ],
      [
        c.title,
        "read scope ≤ 1.1x C toggle pair (wall-clock)",
        ratio(read),
        verdict(known(read) ? read <= 1.1 : undefined),
      ],
      [
        c.title,
        "read scope ≤ 1.1x C toggle pair (main-thread CPU)",
        ratio(readCpu),
        verdict(known(readCpu) ? readCpu <= 1.1 : undefined),
      ],
    );
  }
  return table(["runtime", "target (issue 6)", "measured", "verdict"], rows);
}

function spreads(results: Results): string {
  const percent = (s: number) =>
    Number.isFinite(s) ? `${(s * 100).toFixed(0)}%` : "n/a";
  return table(
    ["workload", ...results.contestants.map((c) => c.title)],
    WORKLOADS.map((w) => [
      w.id,
      ...results.contestants.map((c) => {
        if (!runs(w, c.id)) return "—";
        const wall = spread(series(results, c.id, w.id, "wall"));
        const thread = spread(series(results, c.id, w.id, "thread"));
        return `${percent(wall)} / ${percent(thread)}`;
      }),
    ]),
  );
}

/** The whole report, in Markdown. */
export function render(results: Results): string {
  const { machine } = results;
  const versions = results.contestants.map((c) =>
    `- ${c.title}: ${results.versions[c.id] ?? "n/a"}`
  );
  return [
    `## Run of ${results.date}${results.quick ? " (quick: smoke only)" : ""}`,
    "",
    `- Command: \`${results.command}\``,
    `- Machine: ${machine.nproc} CPUs (${machine.cpu}), Linux ${machine.kernel}`,
    `- Load average at start / end: ${results.load.before} / ${results.load.after}` +
    " (the machine is shared; other work inflates and scatters times)",
    `- Rounds: ${results.rounds}; in each, every workload runs in every contestant, one process each, order rotated`,
    `- Warm-up before each timed batch: ${results.warmupMs} ms (and at least max(200, N/10) iterations)`,
    ...(results.pin === undefined
      ? []
      : [`- Every contestant pinned to CPU ${results.pin} (taskset)`]),
    ...versions,
    "",
    "### Time per operation (median over rounds; ratio against libsodium C, median of per-round ratios)",
    "",
    timings(results, false),
    "",
    "### Main-thread CPU time per operation (clock_gettime(CLOCK_THREAD_CPUTIME_ID); time spent waiting for a CPU on a loaded machine does not count)",
    "",
    timings(results, false, "thread"),
    "",
    "### Profile: FFI and native-call cost (main-thread CPU time)",
    "",
    timings(results, true, "thread"),
    "",
    breakdown(results),
    "",
    "CPU time per operation, user + kernel, of the whole process (all threads: JIT and GC threads included, so the sum can exceed the wall-clock time):",
    "",
    cpuSplit(results),
    "",
    "Each of secmem's calls for one 32-byte buffer timed alone from C (wall-clock; the kernel floor of secmem's design):",
    "",
    steps(results),
    "",
    "### Syscalls per operation (strace -c -f; N iterations minus 0, divided by N)",
    "",
    syscalls(results),
    "",
    "### Memory per 32-byte secret (many held; read from /proc/PID/smaps and status)",
    "",
    memory(results),
    "",
    "### Targets",
    "",
    targets(results),
    "",
    "### Spread over rounds (interquartile range / median; wall-clock / main-thread CPU)",
    "",
    spreads(results),
    "",
    ...(results.failures.length > 0
      ? ["### Failures", "", ...results.failures.map((f) => `- ${f}`), ""]
      : []),
  ].join("\n");
}
