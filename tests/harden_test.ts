/**
 * `hardenProcess`, proved by outcome: a hardened child that aborts under
 * `ulimit -c unlimited` leaves no core (each Linux step alone suffices;
 * an unhardened control leaves one), PR_GET_DUMPABLE reads 0 through the
 * test's own binding, and another process of the same unprivileged user
 * cannot open the child's /proc/PID/mem (the control's it can). In
 * process, over fakes: bad options, an OS without the switches, and a
 * failed step under replaced array methods.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import { hardenProcess, type HardenResult } from "../mod.ts";
import { useNativeForTesting } from "../src/core/_native.ts";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { createFake } from "./_fake_native.ts";
import {
  coreDumpObstacle,
  describeChild,
  filesIn,
  lastJson,
  procText,
  removeDir,
  say,
  tempDir,
  which,
} from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface HardenReport {
  pid: number;
  uid: number;
  first?: HardenResult;
  second?: HardenResult;
  dumpable: number;
}

test("hardenProcess refuses bad options before changing anything", () => {
  for (
    const bad of [
      { skip: ["dumpable", "ptrace"] },
      { skip: "coreLimit" },
      { skp: [] },
      "all",
    ]
  ) {
    assertThrowsCode(
      () => hardenProcess(bad as Parameters<typeof hardenProcess>[0]),
      "INVALID_ARGUMENT",
    );
  }
});

test("hardenProcess reports unsupported, without throwing, where the OS has no switch", () => {
  const fake = createFake();
  (fake.memory as { os: string }).os = "darwin";
  useNativeForTesting(fake.memory);
  try {
    const result = hardenProcess();
    assert.equal(result.hardened, false);
    assert.equal(result.dumpable, undefined);
    assert.equal(result.coreLimit, undefined);
    for (const step of Object.values(result.steps)) {
      assert.equal(step.status, "unsupported");
    }
  } finally {
    useNativeForTesting(undefined);
  }
});

/** `hardenProcess()` over `fake`, with `Array.prototype[key]` replaced. */
function hardenUnder(
  fake: ReturnType<typeof createFake>,
  key: "includes" | "some",
  value: () => boolean,
): HardenResult {
  const saved = Object.getOwnPropertyDescriptor(Array.prototype, key)!;
  useNativeForTesting(fake.memory);
  Object.defineProperty(Array.prototype, key, { ...saved, value });
  try {
    return hardenProcess();
  } finally {
    Object.defineProperty(Array.prototype, key, saved);
    useNativeForTesting(undefined);
  }
}

test("hardened stays false under replaced Array.prototype.includes or some: a failed step, or no step in place", () => {
  const failing = createFake();
  // The dump flag cannot be cleared (failed); core dumps are already off.
  Object.assign(failing.memory, {
    dumpable: () => true,
    disableDumping: () => {
      throw new Error("fake: prctl refused");
    },
    coreLimit: () => ({ soft: 0, hard: 0 }),
  });
  const failed = hardenUnder(failing, "includes", () => false);
  assert.equal(failed.steps.dumpable.status, "failed");
  assert.equal(failed.steps.coreLimit.status, "already");
  assert.equal(failed.hardened, false, "a step failed");

  const bare = createFake();
  (bare.memory as { os: string }).os = "darwin";
  const none = hardenUnder(bare, "some", () => true);
  for (const step of Object.values(none.steps)) {
    assert.equal(step.status, "unsupported");
  }
  assert.equal(none.hardened, false, "no step in place");
});

const coreObstacle = linuxOnly || coreDumpObstacle() ||
  (procText("/proc/sys/fs/suid_dumpable").trim() === "0"
    ? false
    : "fs.suid_dumpable is not 0: the kernel dumps non-dumpable processes too");

function abortIn(what: string): { report: HardenReport; cores: number } {
  const dir = tempDir("harden");
  try {
    const result = runChild(childScript("harden.ts"), [what, "abort"], {
      shellPrefix: "ulimit -c unlimited;",
      cwd: dir,
      timeout: 300_000,
    });
    assert.equal(result.signal, "SIGABRT", describeChild(result));
    return {
      report: lastJson<HardenReport>(result.stdout),
      cores: filesIn(dir).length,
    };
  } finally {
    removeDir(dir);
  }
}

test(
  "a hardened child that aborts under ulimit -c unlimited leaves no core; the control leaves one",
  () => {
    const control = abortIn("control");
    assert.equal(control.report.dumpable, 1);
    assert.equal(
      control.cores,
      1,
      "the control left no core: the test is blind",
    );
    const counts: string[] = [`control ${control.cores}`];
    for (const what of ["harden", "dumpable-only", "core-only"]) {
      const { report, cores } = abortIn(what);
      counts.push(`${what} ${cores}`);
      assert.equal(cores, 0, `${what}: a core was written`);
      assert.equal(report.first!.hardened, true);
      if (what !== "core-only") {
        assert.equal(report.dumpable, 0, "PR_GET_DUMPABLE");
        assert.equal(report.first!.dumpable, false);
        assert.equal(report.first!.steps.dumpable.status, "done");
        assert.equal(report.second!.steps.dumpable.status, "already");
      } else {
        assert.equal(report.dumpable, 1);
      }
      if (what !== "dumpable-only") {
        assert.equal(report.first!.coreLimit, 0);
        assert.equal(report.first!.steps.coreLimit.status, "done");
        assert.equal(report.second!.steps.coreLimit.status, "already");
      }
      if (what === "harden") {
        say(
          `  ${runtime}: first call ${JSON.stringify(report.first!.steps)};` +
            ` second call dumpable ${
              report.second!.steps.dumpable.status
            }, coreLimit ${
              report.second!.steps.coreLimit.status
            }; PR_GET_DUMPABLE ${report.dumpable}`,
        );
      }
    }
    say(`  ${runtime}: core files after abort: ${counts.join(", ")}`);
  },
  { skip: coreObstacle },
);

// Run as an unprivileged user: root may open any /proc/PID/mem.
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
const READER = `
out="$1"; shift
"$@" >"$out" 2>"$out.err" &
pid=$!
i=0
until grep -q '^{' "$out" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -gt 1200 ] && break; sleep 0.1
done
if dd if=/proc/$pid/mem of=/dev/null bs=1 count=0 2>"$out.dd"; then
  echo "mem=opened"
else
  echo "mem=refused $(tr '\\n' ' ' < "$out.dd")"
fi
if head -c 64 /proc/$pid/maps >/dev/null 2>&1; then echo "maps=read"; else echo "maps=refused"; fi
echo "owner=$(stat -c %u /proc/$pid/mem)"
kill -9 $pid
cat "$out" "$out.err"
`;

function readAsNobody(what: string): {
  report: HardenReport;
  mem: string;
  maps: string;
  owner: string;
} {
  const dir = tempDir("harden-mem");
  // The unprivileged child and its reader write here.
  chmodSync(dir, 0o777);
  try {
    const result = runChild(childScript("harden.ts"), [], {
      commandOverride: [
        ...NOBODY,
        "sh",
        "-c",
        READER,
        "sh",
        `${dir}/out`,
        ...runtimeCommand(childScript("harden.ts"), [what, "wait"]),
      ],
      cwd: dir,
      env: {
        HOME: dir,
        DENO_DIR: `${dir}/deno`,
        XDG_CACHE_HOME: dir,
        TMPDIR: dir,
      },
      timeout: 180_000,
    });
    assert.equal(result.status, 0, describeChild(result));
    const field = (name: string) =>
      new RegExp(`^${name}=(.*)$`, "m").exec(result.stdout)?.[1] ?? "";
    return {
      report: lastJson<HardenReport>(result.stdout),
      mem: field("mem"),
      maps: field("maps"),
      owner: field("owner"),
    };
  } finally {
    removeDir(dir);
  }
}

const memObstacle = linuxOnly ||
  (which("setpriv") ? false : "needs setpriv (util-linux)");

test(
  "a process of the same non-root user cannot open a hardened child's /proc/PID/mem; the control's it can",
  () => {
    const control = readAsNobody("control");
    assert.equal(control.report.uid, 65534);
    assert.equal(
      control.mem,
      "opened",
      "the reader cannot open even the control",
    );
    assert.equal(control.maps, "read");
    assert.equal(control.owner, "65534");
    const hardened = readAsNobody("harden");
    assert.equal(hardened.report.uid, 65534);
    assert.equal(hardened.report.dumpable, 0);
    assert.equal(hardened.report.first!.hardened, true);
    assert.match(hardened.mem, /^refused .*Permission denied/);
    assert.equal(hardened.maps, "refused");
    // Not dumpable: the kernel hands the process's /proc/PID files (not the
    // directory itself) to root.
    assert.equal(hardened.owner, "0");
    say(
      `  ${runtime} as uid 65534: control mem ${control.mem}, maps ${control.maps}, /proc/PID/mem owner ${control.owner};` +
        ` hardened mem ${hardened.mem.trim()}, maps ${hardened.maps}, /proc/PID/mem owner ${hardened.owner}`,
    );
  },
  { skip: memObstacle },
);
