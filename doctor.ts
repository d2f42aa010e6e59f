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

export {
  type CheckStatus,
  type DoctorCheck,
  type DoctorReport,
  formatReport,
  runDoctor,
} from "./src/doctor/doctor.ts";

interface Host {
  Deno?: { args: string[] };
  process?: { argv: string[]; exitCode?: number };
}

if ((import.meta as { main?: boolean }).main) {
  const host = globalThis as unknown as Host;
  const args = host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
  const report = runDoctor();
  console.log(
    args.includes("--json")
      ? JSON.stringify(report, null, 2)
      : formatReport(report),
  );
  if (!report.ok) {
    const target = host.Deno ?? host.process;
    (target as { exitCode?: number }).exitCode = 1;
  }
}
