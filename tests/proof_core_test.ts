/**
 * Core-dump forensics: a process that holds a secret in a SecretBuffer and
 * a control in an ordinary array dumps core (the kernel on abort, and gdb's
 * gcore on a live process); the control must be in the core (the search can
 * see) and the secret must not (MADV_DONTDUMP holds), at rest and open.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import {
  bytesText,
  coreDumpObstacle,
  corePattern,
  dataRanges,
  describeChild,
  dumpEstimate,
  env,
  filesIn,
  inCI,
  lastJson,
  needleFromHex,
  type NeedleHex,
  removeDir,
  say,
  scanFile,
  startChild,
  tempDir,
  which,
} from "./_forensics.ts";
import { Skip, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { spawnSync } from "node:child_process";

interface CoreReport {
  pid: number;
  atRest: NeedleHex;
  open: NeedleHex;
  control: NeedleHex;
}

/** Searches one core for the three needles and checks the outcome. */
function searchCore(path: string, report: CoreReport, label: string): void {
  const started = performance.now();
  const ranges = dataRanges(path);
  const [control, atRest, open] = scanFile(
    [report.control, report.atRest, report.open].map(needleFromHex),
    path,
    ranges,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  say(
    `  ${label}: searched ${
      bytesText(control.bytesScanned)
    } of data (${ranges.length} extents) in one pass in ${seconds} s;` +
      ` control S2 hits ${control.hits.length}, SecretBuffer S1 at rest hits ${atRest.hits.length},` +
      ` SecretBuffer S3 open (readonly) hits ${open.hits.length}`,
  );
  assert(
    control.hits.length > 0,
    `${label}: the control array's bytes are not in the core, so the search cannot see`,
  );
  assert.deepEqual(
    atRest.hits.length,
    0,
    `${label}: S1 (at rest) found in the core`,
  );
  assert.deepEqual(
    open.hits.length,
    0,
    `${label}: S3 (open) found in the core`,
  );
}

const obstacle = linuxOnly || coreDumpObstacle();

test(
  "core dump on abort holds the control array but not the SecretBuffer",
  () => {
    const dir = tempDir("core");
    try {
      const started = performance.now();
      const result = runChild(childScript("proof_core.ts"), ["abort"], {
        shellPrefix: "ulimit -c unlimited;",
        cwd: dir,
        timeout: 300_000,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      assert.deepEqual(result.signal, "SIGABRT", describeChild(result));
      const report = lastJson<CoreReport>(result.stdout);
      const cores = filesIn(dir);
      assert.deepEqual(
        cores.length,
        1,
        `expected one core file in ${dir} (core_pattern "${corePattern()}")`,
      );
      const [core] = cores;
      say(
        `  kernel core of pid ${report.pid}: ${
          bytesText(core.size)
        } apparent,` +
          ` ${
            bytesText(core.allocated)
          } on disk; child ran and dumped in ${seconds} s`,
      );
      searchCore(core.path, report, "kernel core");
    } finally {
      removeDir(dir);
    }
  },
  // In CI a piped core_pattern must fail the run, not skip it.
  { skip: inCI && !linuxOnly ? false : obstacle },
);

if (inCI && !linuxOnly && coreDumpObstacle() !== undefined) {
  test("core dumps can be read here", () => {
    throw new Error(
      `CI cannot prove the core-dump guarantee: ${coreDumpObstacle()}`,
    );
  });
}

/** gcore writes every mapping, even unbacked reservations: cap the cost. */
const GCORE_BUDGET = Number(env("SECMEM_GCORE_BUDGET") ?? 8 * 2 ** 30);

test(
  "gcore of a live process holds the control array but not the SecretBuffer",
  async () => {
    const dir = tempDir("gcore");
    const child = startChild(childScript("proof_core.ts"), ["wait"]);
    try {
      const report = JSON.parse(await child.first) as CoreReport;
      const estimate = dumpEstimate(report.pid);
      if (estimate > GCORE_BUDGET) {
        throw new Skip(
          `gcore would write ${
            bytesText(estimate)
          } (gdb writes the runtime's untouched reservations as zeros; budget ${
            bytesText(GCORE_BUDGET)
          }, SECMEM_GCORE_BUDGET=<bytes> raises it); the kernel core covers this runtime`,
        );
      }
      const started = performance.now();
      const gcore = spawnSync(
        "gcore",
        ["-o", `${dir}/core`, String(report.pid)],
        { encoding: "utf8", timeout: 600_000 },
      );
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      assert.deepEqual(gcore.status, 0, `gcore failed: ${gcore.stderr}`);
      const cores = filesIn(dir);
      assert.deepEqual(cores.length, 1, "expected one gcore file");
      const [core] = cores;
      say(
        `  gcore of pid ${report.pid}: ${bytesText(core.size)} apparent, ${
          bytesText(core.allocated)
        } on disk, written in ${seconds} s`,
      );
      child.stop();
      searchCore(core.path, report, "gcore");
    } finally {
      child.stop();
      removeDir(dir);
    }
  },
  {
    skip: linuxOnly ||
      (which("gcore") ? false : "gdb's gcore is not installed"),
  },
);
