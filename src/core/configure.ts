/**
 * `configure`: the process-wide settings, today the default lock policy.
 *
 * @module
 */

import {
  type LockPolicy,
  type LockPolicySettings,
  lockPolicySettings,
  type LockPolicySource,
  setDefaultLock,
} from "./_policy.ts";
import { checkChoice, checkOptions } from "./_validate.ts";

export type { LockPolicy, LockPolicySettings, LockPolicySource };

/** Options for `configure`. */
export interface ConfigureOptions {
  /**
   * The default lock policy of every buffer, input, pool, enclave and
   * crypto result made from now on that does not name its own: `"required"`
   * (fail with `MEMLOCK_LIMIT` when the pages cannot be locked) or
   * `"best-effort"` (keep unlocked pages, which may be swapped out; every
   * other protection still applies). A pool takes the default when it is
   * made.
   */
  lock?: LockPolicy;
}

/**
 * Sets the process-wide defaults and returns those in force.
 *
 * The default lock policy comes from, first to last: the `lock` option of
 * the call that allocates, `configure({ lock })`, the environment variable
 * `SECMEM_LOCK=required|best-effort` (read once, at the first allocation or
 * `configure` call), and `"required"`. An unknown `SECMEM_LOCK` value makes
 * that first use, and every later one, throw `INVALID_ARGUMENT`, even when
 * `configure` set the policy: a typo in the switch must not pass unseen.
 *
 * Deno reads `SECMEM_LOCK` only with `--allow-env` (or
 * `--allow-env=SECMEM_LOCK`); without it the variable is ignored, the
 * default stays `"required"`, and `environmentRefused` says why. secmem
 * never raises a permission prompt for it.
 *
 * @param options `lock`; omit it to only read the settings.
 * @returns The lock policy in force and where it came from.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for an unknown option or
 * value, or an unknown `SECMEM_LOCK` value.
 *
 * @example Allow unlocked pages in a container without CAP_IPC_LOCK
 * ```ts
 * import { configure, SecretBuffer } from "@secmem/secmem";
 *
 * const { lock, source } = configure({ lock: "best-effort" });
 * if (lock !== "best-effort" || source !== "configure") throw new Error();
 * using key = SecretBuffer.random(32); // unlocked only if the limit refuses
 * configure({ lock: "required" });
 * ```
 */
export function configure(options?: ConfigureOptions): LockPolicySettings {
  const { lock } = checkOptions(options, ["lock"]);
  // Checked before anything changes, so a bad call leaves the policy as it was.
  const checked = lock === undefined
    ? undefined
    : checkChoice(lock, ["required", "best-effort"], "lock");
  const settings = lockPolicySettings();
  if (checked === undefined) return settings;
  setDefaultLock(checked);
  return lockPolicySettings();
}
