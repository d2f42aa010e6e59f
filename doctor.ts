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
  process?: {
    argv: string[];
    exitCode?: number;
    getBuiltinModule?: (id: string) => unknown;
  };
}

/**
 * Whether this module is the program being run. `import.meta.main` says so
 * in Deno, Bun and Node 24.2+; an older Node leaves it undefined, and then
 * the script Node was started with (`process.argv[1]`, through any symlink
 * such as npm's `.bin/secmem-doctor`) is compared with this file. Without
 * the fallback an old Node would print nothing and exit 0, which a CI gate
 * reads as success on a machine where secmem cannot work.
 */
function isProgram(host: Host): boolean {
  const main = (import.meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const script = host.process?.argv[1];
  if (typeof script !== "string" || script === "") return false;
  const builtin = host.process?.getBuiltinModule;
  const fs = builtin?.("node:fs") as
    | { realpathSync(path: string): string }
    | undefined;
  const url = builtin?.("node:url") as
    | { fileURLToPath(url: string): string }
    | undefined;
  const self = url?.fileURLToPath(import.meta.url) ??
    decodeURIComponent(new URL(import.meta.url).pathname);
  const candidates = [script, `${script}.js`];
  return candidates.some((path) => {
    try {
      return (fs?.realpathSync(path) ?? path) === self;
    } catch {
      return false;
    }
  });
}

const host = globalThis as unknown as Host;
if (isProgram(host)) {
  const args = host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
  const target = (host.Deno ?? host.process) as { exitCode?: number };
  try {
    const report = runDoctor();
    console.log(
      args.includes("--json")
        ? JSON.stringify(report, null, 2)
        : formatReport(report),
    );
    if (!report.ok) target.exitCode = 1;
  } catch (error) {
    // The doctor is a gate: a self-test that cannot even run fails it.
    console.error(
      `secmem doctor could not run: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    target.exitCode = 1;
  }
}
