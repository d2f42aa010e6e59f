/**
 * The process-wide lock policy: `configure({ lock })` and `SECMEM_LOCK`.
 * In process, over a fake native layer that never locks: the order of
 * precedence and the checks. In a child without CAP_IPC_LOCK under a
 * 64 KiB RLIMIT_MEMLOCK: every allocation path, for real.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { configure, SecretBuffer, SecretPool, stats } from "../mod.ts";
import {
  LOCK_VARIABLE,
  resetLockPolicyForTesting,
} from "../src/core/_policy.ts";
import { useNativeForTesting } from "../src/core/_native.ts";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { createFake } from "./_fake_native.ts";
// Types only: importing the child's values would run it.
import type { Outcome } from "./children/lock_policy.ts";
import { describeChild, lastJson, say, which } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

/** Runs `body` over a native layer whose lock limit never gives way. */
function withoutLocking(body: () => void): void {
  const saved = process.env[LOCK_VARIABLE];
  delete process.env[LOCK_VARIABLE];
  resetLockPolicyForTesting();
  useNativeForTesting(
    createFake({ lockRefusals: Infinity, canRaise: false }).memory,
  );
  try {
    body();
  } finally {
    useNativeForTesting(undefined);
    if (saved === undefined) delete process.env[LOCK_VARIABLE];
    else process.env[LOCK_VARIABLE] = saved;
    resetLockPolicyForTesting();
  }
}

test("the default stays required: an unlockable buffer is MEMLOCK_LIMIT", () => {
  withoutLocking(() => {
    assert.deepEqual(configure(), { lock: "required", source: "default" });
    assertThrowsCode(() => SecretBuffer.alloc(16), "MEMLOCK_LIMIT");
    assertThrowsCode(() => new SecretPool().alloc(16), "MEMLOCK_LIMIT");
  });
});

test("configure sets the default; a per-call lock still wins", () => {
  withoutLocking(() => {
    const before = stats().unlockedBuffers;
    assert.deepEqual(configure({ lock: "best-effort" }), {
      lock: "best-effort",
      source: "configure",
    });
    const loose = SecretBuffer.alloc(16);
    assert.equal(stats().unlockedBuffers, before + 1);
    assert.equal(stats().unlockedBytes >= 4096, true);
    assertThrowsCode(
      () => SecretBuffer.alloc(16, { lock: "required" }),
      "MEMLOCK_LIMIT",
    );
    const pool = new SecretPool();
    pool.alloc(8).destroy();
    assert.equal(pool.stats().unlockedBytes > 0, true);
    configure({ lock: "required" });
    assertThrowsCode(() => SecretBuffer.alloc(16), "MEMLOCK_LIMIT");
    SecretBuffer.alloc(16, { lock: "best-effort" }).destroy();
    loose.destroy();
    assert.equal(stats().unlockedBuffers, before);
  });
});

test("configure refuses bad input and then changes nothing", () => {
  withoutLocking(() => {
    configure({ lock: "best-effort" });
    for (
      const bad of [
        { lock: "bestefort" },
        { lock: true },
        { locks: "required" },
        "required",
        null,
      ]
    ) {
      assertThrowsCode(
        () => configure(bad as Parameters<typeof configure>[0]),
        "INVALID_ARGUMENT",
      );
    }
    assert.equal(configure().lock, "best-effort");
  });
});

test("SECMEM_LOCK sets the default, below configure, read once", () => {
  withoutLocking(() => {
    process.env[LOCK_VARIABLE] = "best-effort";
    SecretBuffer.alloc(16).destroy();
    // Read once: a later change of the environment changes nothing.
    process.env[LOCK_VARIABLE] = "required";
    assert.deepEqual(configure(), {
      lock: "best-effort",
      source: "SECMEM_LOCK",
    });
    SecretBuffer.alloc(16).destroy();
    configure({ lock: "required" });
    assertThrowsCode(() => SecretBuffer.alloc(16), "MEMLOCK_LIMIT");
  });
});

test("an unknown SECMEM_LOCK fails every use, naming the variable", () => {
  withoutLocking(() => {
    process.env[LOCK_VARIABLE] = "bestefort";
    for (const use of [() => SecretBuffer.alloc(16), () => configure()]) {
      const error = assertThrowsCode(use, "INVALID_ARGUMENT");
      assert.match(error.message, /SECMEM_LOCK="bestefort"/);
    }
    assertThrowsCode(() => new SecretPool(), "INVALID_ARGUMENT");
    // configure does not hide the typo either.
    assertThrowsCode(
      () => configure({ lock: "best-effort" }),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(() => SecretBuffer.alloc(16), "INVALID_ARGUMENT");
  });
});

interface PolicyReport {
  settings: {
    lock?: string;
    source?: string;
    environmentRefused?: string;
    code?: string;
    message?: string;
  };
  lockedAtStart: number;
  made: number;
  intact: number;
  fillError?: Outcome;
  lockedAfterFill: number;
  afterFill: ReturnType<typeof stats>;
  paths: Record<string, Outcome>;
  lockedAtEnd: number;
  atEnd: ReturnType<typeof stats>;
  afterDestroy: ReturnType<typeof stats>;
}

const LIMIT = 65536;
const WRAPPER = [
  "setpriv",
  "--inh-caps=-ipc_lock",
  "--bounding-set=-ipc_lock",
  "prlimit",
  `--memlock=${LIMIT}`,
  "--",
];
const tools = linuxOnly ||
  (which("setpriv") && which("prlimit")
    ? false
    : "needs setpriv and prlimit (util-linux)");

const PATHS = [
  "alloc",
  "random",
  "from",
  "fromHex",
  "fromBase64",
  "fromText",
  "fromStream",
  "fromFileSync",
  "fromFile",
  "pool",
  "enclave",
];

function runPolicyChild(
  variable: string,
  args: string[] = [],
  command = runtimeCommand(childScript("lock_policy.ts"), args),
): PolicyReport {
  const result = runChild(childScript("lock_policy.ts"), args, {
    commandOverride: [...WRAPPER, ...command],
    env: { [LOCK_VARIABLE]: variable },
    timeout: 120_000,
  });
  assert.equal(result.status, 0, describeChild(result));
  const report = lastJson<PolicyReport>(result.stdout);
  say(
    `  ${runtime} SECMEM_LOCK=${JSON.stringify(variable)} ${args.join(" ")}:` +
      ` policy ${report.settings.lock ?? report.settings.code} (${
        report.settings.source ?? "-"
      }); ${report.made} buffers made, ${report.intact} intact` +
      (report.fillError ? `, then ${report.fillError.code}` : "") +
      `; VmLck ${report.lockedAtStart} -> ${report.lockedAfterFill} -> ${report.lockedAtEnd};` +
      ` stats: ${report.atEnd.unlockedBuffers} unlocked buffers, ${report.atEnd.unlockedBytes} unlocked bytes;` +
      ` paths ${
        PATHS.map((p) =>
          `${p}:${report.paths[p].ok ? "ok" : report.paths[p].code}`
        )
          .join(" ")
      }`,
  );
  return report;
}

function assertAllPathsWork(report: PolicyReport): void {
  assert.equal(report.made, 100);
  assert.equal(report.intact, 100);
  assert.equal(report.fillError, undefined);
  // The limit holds: best-effort never locks past it.
  assert.equal(report.lockedAfterFill <= LIMIT, true);
  assert.equal(report.lockedAtEnd <= LIMIT, true);
  assert.equal(report.afterFill.lockedBytes <= LIMIT, true);
  assert.equal(report.afterFill.unlockedBuffers >= 100 - LIMIT / 4096, true);
  assert.equal(report.afterFill.unlockedBytes >= 84 * 4096, true);
  for (const name of PATHS) {
    const outcome = report.paths[name];
    assert.equal(outcome.ok, true, `${name}: ${outcome.message}`);
  }
  for (const name of PATHS.slice(0, 9)) {
    assert.equal(report.paths[name].unlocked, 1, name);
  }
  assert.equal(report.paths.pool.detail! > 0, true, "pool unlocked bytes");
  // The opened buffer at least; -1 would mean the bytes came back wrong.
  assert.equal(report.paths.enclave.detail! >= 1, true, "enclave round trip");
  assert.equal(report.paths.perCallRequired.code, "MEMLOCK_LIMIT");
  assert.equal(report.paths.perCallPoolRequired.code, "MEMLOCK_LIMIT");
  assert.equal(report.paths.perCallBestEffort.ok, true);
  assert.equal(report.afterDestroy.liveBuffers, 0);
  assert.equal(report.afterDestroy.unlockedBuffers, 0);
  assert.equal(report.afterDestroy.unlockedBytes, 0);
}

test(
  "SECMEM_LOCK=best-effort under 64 KiB without CAP_IPC_LOCK: 100 buffers, every path, an Enclave round trip",
  () => {
    const report = runPolicyChild("best-effort");
    assert.deepEqual(report.settings, {
      lock: "best-effort",
      source: "SECMEM_LOCK",
    });
    assertAllPathsWork(report);
  },
  { skip: tools },
);

test(
  "configure({ lock: 'best-effort' }) under 64 KiB without CAP_IPC_LOCK: every path",
  () => {
    const report = runPolicyChild("", ["configure"]);
    assert.deepEqual(report.settings, {
      lock: "best-effort",
      source: "configure",
    });
    assertAllPathsWork(report);
  },
  { skip: tools },
);

test(
  "without SECMEM_LOCK the default stays strict: every path throws MEMLOCK_LIMIT",
  () => {
    const report = runPolicyChild("");
    assert.deepEqual(report.settings, { lock: "required", source: "default" });
    assert.equal(report.made < 100, true);
    assert.equal(report.intact, report.made);
    assert.equal(report.fillError?.code, "MEMLOCK_LIMIT");
    for (const name of [...PATHS, "perCallRequired", "perCallPoolRequired"]) {
      assert.equal(report.paths[name].code, "MEMLOCK_LIMIT", name);
    }
    assert.equal(report.paths.perCallBestEffort.ok, true);
    assert.equal(report.afterFill.unlockedBuffers, 0);
  },
  { skip: tools },
);

test(
  "SECMEM_LOCK=bestefort is INVALID_ARGUMENT at first use, naming the variable",
  () => {
    const report = runPolicyChild("bestefort");
    assert.equal(report.settings.code, "INVALID_ARGUMENT");
    assert.match(report.settings.message!, /SECMEM_LOCK/);
    assert.equal(report.made, 0);
    assert.equal(report.fillError?.code, "INVALID_ARGUMENT");
    assert.equal(report.paths.alloc.code, "INVALID_ARGUMENT");
  },
  { skip: tools },
);

test(
  "Deno refused env access (--deny-env) ignores SECMEM_LOCK, says why, and stays strict",
  () => {
    const host = globalThis as unknown as { Deno: { execPath(): string } };
    const report = runPolicyChild("best-effort", [], [
      host.Deno.execPath(),
      "run",
      "--allow-all",
      "--deny-env=SECMEM_LOCK",
      "--quiet",
      new URL(childScript("lock_policy.ts")).pathname,
    ]);
    assert.equal(report.settings.lock, "required");
    assert.match(report.settings.environmentRefused!, /--allow-env/);
    assert.equal(report.fillError?.code, "MEMLOCK_LIMIT");
  },
  { skip: tools || (runtime === "deno" ? false : "Deno's permissions") },
);
