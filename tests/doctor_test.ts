/**
 * The doctor, run as a user runs it, and the FFI permission error.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const doctor = new URL("../doctor.ts", import.meta.url).href;

/**
 * Runs Deno with exactly `args`. Deno's node:child_process turns a spawn of
 * Deno itself into `deno run -A ...` for Node compatibility, which would
 * grant the very permission these tests take away; Deno.Command does not.
 */
function denoExactly(args: string[]): { status: number; stdout: string } {
  const deno = (globalThis as unknown as {
    Deno: {
      execPath(): string;
      Command: new (cmd: string, o: { args: string[] }) => {
        outputSync(): { code: number; stdout: Uint8Array };
      };
    };
  }).Deno;
  const output = new deno.Command(deno.execPath(), { args }).outputSync();
  return {
    status: output.code,
    stdout: new TextDecoder().decode(output.stdout),
  };
}

test(
  "doctor --json: every required protection passes here and the exit status is 0",
  () => {
    const child = runChild(doctor, ["--json"]);
    const report = JSON.parse(child.stdout) as {
      ok: boolean;
      checks: { id: string; status: string; detail: string }[];
    };
    const failed = report.checks.filter((c) => c.status === "fail");
    assert.deepEqual(failed, [], "failed checks");
    assert.deepEqual(report.ok, true);
    assert.deepEqual(child.status, 0);
    const ids = report.checks.map((c) => c.id);
    for (
      const id of [
        "locked",
        "dontdump",
        "wipeonfork",
        "rest",
        "guards",
        "unmapped",
        "scan",
      ]
    ) {
      assert(ids.includes(id), `the self-test ran ${id}`);
    }
    const scan = report.checks.find((c) => c.id === "scan")!;
    console.log(`[${runtime}]   doctor scan: ${scan.detail}`);
    // Linux shares one table between threads (tests/hostile_workers_test.ts).
    const workers = report.checks.find((c) => c.id === "workers");
    assert.equal(workers?.status, "pass", JSON.stringify(workers));
  },
  { skip: linuxOnly },
);

test("doctor prints a table for people", () => {
  const child = runChild(doctor);
  assert.deepEqual(child.status, 0, child.stderr);
  assert(child.stdout.includes("PASS  Data pages locked in RAM"), child.stdout);
  assert(
    child.stdout.includes("every required protection holds"),
    child.stdout,
  );
}, { skip: linuxOnly });

test(
  "doctor exits 1 when a required protection is missing (no FFI permission)",
  () => {
    const result = denoExactly(["run", "--quiet", fileURLToPath(doctor)]);
    assert.deepEqual(result.status, 1, result.stdout);
    assert(
      result.stdout.includes("FAIL") && result.stdout.includes("--allow-ffi"),
      result.stdout,
    );
  },
  { skip: runtime === "deno" ? linuxOnly : "Deno's permission flags" },
);

test(
  "Deno without --allow-ffi: import works, alloc throws FFI_UNAVAILABLE naming the flag",
  () => {
    const script = fileURLToPath(childScript("no_ffi.ts"));
    const result = denoExactly(["run", "--quiet", script]);
    assert.deepEqual(result.status, 0, result.stdout);
    assert(result.stdout.includes("imported"), result.stdout);
    assert(result.stdout.includes("code FFI_UNAVAILABLE"), result.stdout);
    assert(result.stdout.includes("--allow-ffi"), result.stdout);
  },
  { skip: runtime === "deno" ? false : "Deno's permission flags" },
);
