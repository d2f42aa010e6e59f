/**
 * `doctor`: reports what this machine and runtime give a secret, and proves
 * it with a live self-test. Prints a table, or JSON with `--json`; exits 1
 * when a required protection is missing. It also shows the lock policy in
 * force (Deno reads `SECMEM_LOCK` only with `--allow-env`) and whether the
 * process is hardened.
 *
 * ```sh
 * deno run --allow-ffi --allow-env=SECMEM_LOCK jsr:@secmem/secmem/doctor
 * bun doctor.ts --json
 * ```
 *
 * @example Run the checks from code
 * ```ts
 * import { runDoctor } from "@secmem/secmem/doctor";
 *
 * const { ok } = runDoctor();
 * console.log(ok ? "protected" : "not protected");
 * ```
 *
 * @module
 */

import { formatReport, runDoctor } from "./src/doctor/doctor.ts";
import { isProgram, programArgs, setExitCode } from "./src/core/_program.ts";

export {
  type CheckStatus,
  type DoctorCheck,
  type DoctorReport,
  formatReport,
  runDoctor,
} from "./src/doctor/doctor.ts";

if (isProgram((import.meta as { main?: unknown }).main, import.meta.url)) {
  const args = programArgs();
  try {
    const report = runDoctor();
    console.log(
      args.includes("--json")
        ? JSON.stringify(report, null, 2)
        : formatReport(report),
    );
    if (!report.ok) setExitCode(1);
  } catch (error) {
    // The doctor is a gate: a self-test that cannot even run fails it.
    console.error(
      `secmem doctor could not run: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    setExitCode(1);
  }
}
