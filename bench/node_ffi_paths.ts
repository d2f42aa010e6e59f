/**
 * What each node:ffi call path costs, for the choice in ffi/node.ts
 * (bench/RESULTS.md, "Node's fast call path"). Node 26 only:
 *
 *   node --disable-warning=ExperimentalWarning bench/node_ffi_paths.ts
 *
 * Prints the median CPU ns per call of `explicit_bzero(p, 0)` (no system call)
 * and `mprotect(page, page, PROT_READ | PROT_WRITE)` (one system call that
 * changes nothing), over 9 rounds of 200,000 calls after a warm-up:
 * - `raw fast`: raw node:ffi, the real signature (V8's fast API path);
 * - `raw padded`: raw node:ffi, padded with int32 zeros to 9 arguments,
 *   which the fast path refuses;
 * - `adapter`: secmem's Node adapter as it binds libc (ffi/node.ts).
 *
 * @module
 */

import process from "node:process";
import { loadAdapter } from "../ffi/load.ts";
import { LINUX, LINUX_LIBC, LINUX_LIBC_CANDIDATES } from "../ffi/linux.ts";

type Call = (...args: unknown[]) => unknown;
interface NodeFfi {
  dlopen(
    path: string,
    symbols: Record<string, { arguments: string[]; return: string }>,
  ): { functions: Record<string, Call> };
}

const ffi = (process as unknown as {
  getBuiltinModule(id: string): NodeFfi;
}).getBuiltinModule("node:ffi");

const ROUNDS = 9;
const CALLS = 200_000;

/** The two functions, declared with int32 parameters up to `arity`. */
function raw(arity: number): Record<string, Call> {
  const upTo = (real: string[]) => [
    ...real,
    ...Array<string>(Math.max(0, arity - real.length)).fill("int32"),
  ];
  return ffi.dlopen("libc.so.6", {
    explicit_bzero: { arguments: upTo(["pointer", "uint64"]), return: "void" },
    mprotect: {
      arguments: upTo(["pointer", "uint64", "int32"]),
      return: "int32",
    },
  }).functions;
}

/**
 * Median ns per call of `loop(CALLS)`, in the process's CPU time (user +
 * system): the machine is shared, and time spent waiting for a CPU is not
 * the call's cost.
 */
function measure(loop: (n: number) => void): number {
  for (let i = 0; i < 3; i++) loop(CALLS);
  const ns: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    loop(CALLS);
    const { user, system } = process.cpuUsage(start);
    ns.push((user + system) * 1000 / CALLS);
  }
  ns.sort((a, b) => a - b);
  return ns[ROUNDS >> 1];
}

const libc = loadAdapter().open(LINUX_LIBC_CANDIDATES, LINUX_LIBC);
const page = Number(libc.sysconf(LINUX._SC_PAGESIZE));
const rw = LINUX.PROT_READ | LINUX.PROT_WRITE;
const base = libc.mmap(
  0n,
  page,
  rw,
  LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS,
  -1,
  0,
);
const bigPage = BigInt(page);
const fast = raw(0);
const pad = raw(9);
const bzero = libc.explicit_bzero!;

const rows: [string, () => number, () => number][] = [
  [
    "raw fast",
    () =>
      measure((n) => {
        for (let i = 0; i < n; i++) fast.explicit_bzero(base, 0n);
      }),
    () =>
      measure((n) => {
        for (let i = 0; i < n; i++) fast.mprotect(base, bigPage, rw);
      }),
  ],
  [
    "raw padded",
    () =>
      measure((n) => {
        for (let i = 0; i < n; i++) {
          pad.explicit_bzero(base, 0n, 0, 0, 0, 0, 0, 0, 0);
        }
      }),
    () =>
      measure((n) => {
        for (let i = 0; i < n; i++) {
          pad.mprotect(base, bigPage, rw, 0, 0, 0, 0, 0, 0);
        }
      }),
  ],
  [
    "adapter",
    () =>
      measure((n) => {
        for (let i = 0; i < n; i++) bzero(base, 0);
      }),
    () =>
      measure((n) => {
        for (let i = 0; i < n; i++) libc.mprotect(base, page, rw);
      }),
  ],
];

console.log(`node ${process.versions.node}, CPU ns per call (median)`);
console.log("path        explicit_bzero(p,0)  mprotect(page)");
for (const [label, zero, protect] of rows) {
  const a = zero().toFixed(0).padStart(19);
  const b = protect().toFixed(0).padStart(15);
  console.log(`${label.padEnd(10)} ${a} ${b}`);
}
