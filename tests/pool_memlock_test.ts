/**
 * The pool under a locked-memory limit it cannot get past: the arena that
 * does not fit fails with MEMLOCK_LIMIT, nothing stays mapped, and the
 * slots already handed out are untouched; a best-effort pool carries on.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { childScript, runtimeCommand } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const LIMIT = 65536;

function setprivSkip(): string | false {
  if (linuxOnly) return linuxOnly;
  const probe = spawnSync("setpriv", ["--version"]);
  return probe.status === 0 ? false : "needs setpriv (util-linux)";
}

test(
  "past RLIMIT_MEMLOCK: MEMLOCK_LIMIT, nothing left mapped, earlier slots intact",
  () => {
    const command = runtimeCommand(childScript("pool_memlock.ts"));
    const result = spawnSync("setpriv", [
      "--inh-caps=-ipc_lock",
      "--bounding-set=-ipc_lock",
      "prlimit",
      `--memlock=${LIMIT}:${LIMIT}`,
      "--",
      ...command,
    ], { encoding: "utf8", timeout: 120_000 });
    assert.deepEqual(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(report.code, "MEMLOCK_LIMIT", report.message);
    assert(report.message.includes("RLIMIT_MEMLOCK"), report.message);
    assert(
      report.live > 1 && report.live * 32 < LIMIT,
      `some slots fit under the limit (${report.live})`,
    );
    assert.deepEqual(report.statsLive, report.live);
    assert.deepEqual(
      report.again,
      "MEMLOCK_LIMIT",
      "the next try fails the same way",
    );
    assert(report.sameStats, "a failed arena leaves the pool as it was");
    assert(report.sameReservations, "a failed arena leaves nothing mapped");
    assert(report.sameLocked, "nor anything locked");
    assert(
      report.outstanding >= report.arenas,
      "the watch sees the pool's arenas",
    );
    assert(report.firstIntact, "earlier secrets keep their content");
    assert.deepEqual(report.lenient.live, 2000);
    assert(
      report.lenient.lockedBytes < report.lenient.mappedBytes,
      "best-effort: some arenas unlocked",
    );
  },
  { skip: setprivSkip() },
);
