/**
 * The workloads, what each means for each side, and how many iterations a
 * full and a quick run give them. Every contestant runs the same counts.
 *
 * @module
 */

/** One workload as the report shows it. */
export interface WorkloadInfo {
  readonly id: string;
  readonly label: string;
  /** Iterations per timed batch in a full run. */
  readonly full: number;
  /** Iterations per timed batch in a `--quick` run. */
  readonly quick: number;
  /** Part of the profile table rather than the comparison. */
  readonly profile?: boolean;
  /** Contestants that do not run it (no equivalent). */
  readonly only?: readonly string[];
}

const NO_SODIUM_NATIVE = ["c", "deno", "bun", "node"];
const SECMEM = ["deno", "bun", "node"];

/** The workloads, in the order of the report. */
export const WORKLOADS: readonly WorkloadInfo[] = [
  { id: "alloc32", label: "alloc+destroy 32 B", full: 10000, quick: 300 },
  { id: "alloc1k", label: "alloc+destroy 1 KiB", full: 10000, quick: 200 },
  { id: "alloc64k", label: "alloc+destroy 64 KiB", full: 3000, quick: 100 },
  {
    id: "read",
    label: "read scope (RO, back to NOACCESS)",
    full: 50000,
    quick: 1000,
  },
  {
    id: "random32",
    label: "random 32 B (+destroy)",
    full: 10000,
    quick: 200,
  },
  { id: "eq32", label: "equals 32 B", full: 20000, quick: 500 },
  { id: "eq4k", label: "equals 4 KiB", full: 10000, quick: 200 },
  {
    id: "live1",
    label: "alloc+destroy 32 B, 1 live",
    full: 10000,
    quick: 200,
  },
  {
    id: "live1k",
    label: "alloc+destroy 32 B, 1k live",
    full: 10000,
    quick: 200,
  },
  {
    id: "live10k",
    label: "alloc+destroy 32 B, 10k live",
    full: 10000,
    quick: 200,
  },
  {
    id: "pool32",
    label: "SecretPool slot 32 B, alloc+destroy (rest noaccess)",
    full: 50000,
    quick: 1000,
    only: SECMEM,
  },
  {
    id: "pool32_rw",
    label: "SecretPool slot 32 B, alloc+destroy (rest readwrite)",
    full: 200000,
    quick: 2000,
    only: SECMEM,
  },
  {
    id: "getpid",
    label: "getpid() via the runtime's own FFI",
    full: 200000,
    quick: 2000,
    profile: true,
    only: NO_SODIUM_NATIVE,
  },
  {
    id: "ffi_ptr",
    label: "one adapter call, pointer arg, no syscall",
    full: 200000,
    quick: 2000,
    profile: true,
    only: NO_SODIUM_NATIVE,
  },
  {
    id: "floor32",
    label: "secmem's 8 native calls for 32 B, no SecretBuffer",
    full: 10000,
    quick: 300,
    profile: true,
    only: NO_SODIUM_NATIVE,
  },
  {
    id: "floor32_raw",
    label: "the same 8 calls, raw runtime FFI, bigint args",
    full: 10000,
    quick: 300,
    profile: true,
    only: ["c", "deno", "bun", "node"],
  },
  {
    id: "toggle_raw",
    label: "secmem's 2 read-scope mprotects, raw runtime FFI",
    full: 50000,
    quick: 1000,
    profile: true,
    only: NO_SODIUM_NATIVE,
  },
  {
    id: "part_views",
    label: "JS piece: 2 views made, wrapped, detached",
    full: 100000,
    quick: 1000,
    profile: true,
    only: SECMEM,
  },
  {
    id: "part_canary",
    label: "JS piece: one canary drawn",
    full: 100000,
    quick: 1000,
    profile: true,
    only: SECMEM,
  },
  {
    id: "part_registry",
    label: "JS piece: live set + FinalizationRegistry in/out",
    full: 100000,
    quick: 1000,
    profile: true,
    only: SECMEM,
  },
];

/** Whether contestant `id` runs workload `w`. */
export function runs(w: WorkloadInfo, id: string): boolean {
  return w.only === undefined || w.only.includes(id);
}

/** Workloads whose syscalls a `--quick` run counts (the rest take time). */
export const STRACED_QUICK: readonly string[] = ["alloc32", "read"];

/** Workloads whose syscalls are counted with strace. */
export const STRACED: readonly string[] = [
  "alloc32",
  "read",
  "random32",
  "pool32",
];

/** Iterations counted under strace (baseline: 0). */
export const STRACE_ITERATIONS = { full: 2000, quick: 100 } as const;

/** 32-byte secrets held for the memory measurement. */
export const MEMORY_SECRETS = { full: 2000, quick: 200 } as const;
