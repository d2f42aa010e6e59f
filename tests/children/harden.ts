/**
 * Child for the hardening proof. The first argument says what to do:
 * `harden` (`hardenProcess()`), `dumpable-only` or `core-only` (one step
 * skipped), or `control` (nothing). It then prints one JSON line (its
 * pid, uid, what `hardenProcess` returned twice, and PR_GET_DUMPABLE read
 * through the test's own libc binding), and the second argument says how
 * it ends: `abort` (SIGABRT, a core dump if anything allows one) or `wait`
 * (until killed, for a reader to try /proc/PID/mem); anything else
 * exits.
 *
 * @module
 */

import { hardenProcess, type HardenResult, SecretBuffer } from "../../mod.ts";
import { emit } from "../_forensics.ts";
import { TEST_LINUX, testLibc } from "../_test_libc.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process?: { argv: string[] };
};
const [what, end] = host.Deno?.args ?? host.process!.argv.slice(2);

const libc = testLibc();
// Something worth protecting, in the process before it hardens.
const key = SecretBuffer.random(32);

const SKIP: Record<string, Parameters<typeof hardenProcess>[0]> = {
  harden: undefined,
  "dumpable-only": { skip: ["coreLimit"] },
  "core-only": { skip: ["dumpable"] },
};
let first: HardenResult | undefined;
let second: HardenResult | undefined;
if (what !== "control") {
  first = hardenProcess(SKIP[what]);
  second = hardenProcess(SKIP[what]);
}

emit({
  pid: libc.getpid(),
  uid: libc.getuid(),
  first,
  second,
  dumpable: libc.prctl(TEST_LINUX.PR_GET_DUMPABLE, 0, 0, 0, 0),
  keyState: key.state,
});

if (end === "abort") {
  // Let the output drain first: Bun writes to a pipe asynchronously.
  setTimeout(() => libc.abort(), 100);
} else if (end === "wait") {
  setInterval(() => key.state === "destroyed", 60_000);
} else {
  key.destroy();
}
