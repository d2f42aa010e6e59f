/**
 * Memlock exhaustion as an unprivileged process: without CAP_IPC_LOCK and
 * with RLIMIT_MEMLOCK at 64 KiB, allocation stops with a catchable
 * MEMLOCK_LIMIT, earlier buffers stay intact, the failed call leaves no
 * mapping, destroying everything gives the locked memory back, and
 * `lock: "best-effort"` still works. With a higher hard limit, the library
 * raises the soft limit once and gets more.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript } from "./_child.ts";
import {
  describeChild,
  lastJson,
  runWrapped,
  say,
  which,
} from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface MemlockReport {
  pageSize: number;
  limitAtStart: { soft: number; hard: number };
  limitAtEnd: { soft: number; hard: number };
  lockedAtStart: number;
  allocated: number;
  error: { code: string | null; message: string };
  mapsBeforeFailure: number;
  mapsAfterFailure: number;
  failedReservations: string[];
  failedReservationsStillMapped: string[];
  mappingsAdded: string[];
  mappingsRemoved: string[];
  lockedAtLimit: number;
  liveAtLimit: number;
  intact: number;
  bestEffort: {
    ok: boolean;
    state?: string;
    lockedAfter?: number;
    error?: string;
  };
  lockedAfterDestroy: number;
  liveAtEnd: number;
  againOk: boolean;
}

/** Drops CAP_IPC_LOCK (root has it, and then no limit binds) and caps the limit. */
function unprivileged(soft: number, hard: number): string[] {
  return [
    "setpriv",
    "--inh-caps=-ipc_lock",
    "--bounding-set=-ipc_lock",
    "prlimit",
    `--memlock=${soft}:${hard}`,
    "--",
  ];
}

const tools = linuxOnly ||
  (which("setpriv") && which("prlimit")
    ? false
    : "needs setpriv and prlimit (util-linux)");

function run(soft: number, hard: number): MemlockReport {
  const result = runWrapped(
    unprivileged(soft, hard),
    childScript("proof_memlock.ts"),
  );
  assert.deepEqual(result.status, 0, describeChild(result));
  const report = lastJson<MemlockReport>(result.stdout);
  say(
    `  RLIMIT_MEMLOCK ${soft}:${hard} -> soft ${report.limitAtEnd.soft} at the end;` +
      ` ${report.allocated} buffers locked before ${report.error.code};` +
      ` VmLck ${report.lockedAtStart} -> ${report.lockedAtLimit} at the limit -> ${report.lockedAfterDestroy} after destroy;` +
      ` intact ${report.intact}/${report.allocated}; maps around the failed call ${report.mapsBeforeFailure} -> ${report.mapsAfterFailure}` +
      (report.mappingsAdded.length > 0
        ? ` (added by the runtime, not secmem: ${
          report.mappingsAdded.map((l) => l.split(/\s+/).slice(0, 2).join(" "))
            .join("; ")
        })`
        : "") +
      `; reservations made by the failed call ${
        report.failedReservations.join(", ")
      }, still mapped: ${report.failedReservationsStillMapped.length};` +
      ` best-effort ${
        report.bestEffort.ok
          ? `ok (${report.bestEffort.state}, VmLck ${report.bestEffort.lockedAfter})`
          : report.bestEffort.error
      }`,
  );
  assert.deepEqual(report.error.code, "MEMLOCK_LIMIT", report.error.message);
  assert(
    report.error.message.includes("RLIMIT_MEMLOCK"),
    "the message names the limit",
  );
  assert.deepEqual(
    report.intact,
    report.allocated,
    "earlier buffers intact and readable",
  );
  assert.deepEqual(
    report.liveAtLimit,
    report.allocated,
    "stats().liveBuffers at the limit",
  );
  // The count of mappings may move with the runtime's own heap; what the
  // failed call itself reserved must be gone.
  assert(report.failedReservations.length > 0, "the failed call reserved");
  assert.deepEqual(
    report.failedReservationsStillMapped,
    [],
    "mappings left where the failed call reserved",
  );
  assert(
    report.lockedAtLimit <= report.limitAtEnd.soft,
    "VmLck within the limit",
  );
  assert.deepEqual(
    report.lockedAfterDestroy,
    report.lockedAtStart,
    "VmLck after destroying everything",
  );
  assert.deepEqual(
    report.liveAtEnd,
    0,
    "stats().liveBuffers after destroying everything",
  );
  assert(
    report.bestEffort.ok,
    `best-effort allocation: ${report.bestEffort.error}`,
  );
  assert.deepEqual(
    report.bestEffort.state,
    "noaccess",
    "best-effort buffer state",
  );
  assert.deepEqual(
    report.bestEffort.lockedAfter,
    report.lockedAtLimit,
    "best-effort buffer is not locked",
  );
  assert(report.againOk, "a locked allocation works again after destroy");
  return report;
}

test(
  "memlock exhaustion without CAP_IPC_LOCK at 64 KiB: catchable, nothing leaked, best-effort works",
  () => {
    const report = run(65536, 65536);
    assert(report.allocated >= 1, "at least one buffer fits in 64 KiB");
    assert(
      report.allocated * report.pageSize <= 65536,
      `${report.allocated} locked pages cannot fit in 64 KiB`,
    );
    assert.deepEqual(
      report.limitAtEnd.soft,
      65536,
      "the soft limit stays (it equals the hard one)",
    );
  },
  { skip: tools },
);

test(
  "memlock soft limit below the hard one: raised once, more buffers fit",
  () => {
    const report = run(65536, 131072);
    assert.deepEqual(
      report.limitAtEnd.soft,
      131072,
      "the soft limit was raised to the hard one",
    );
    assert(
      report.allocated * report.pageSize > 65536,
      `only ${report.allocated} buffers: the raise gave nothing`,
    );
    assert(
      report.allocated * report.pageSize <= 131072,
      "within the hard limit",
    );
  },
  { skip: tools },
);
