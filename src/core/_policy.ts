/**
 * The process-wide lock policy: the default every allocation uses when its
 * own options say nothing. The first call that wins sets it, in this order:
 * a per-call `lock` option, `configure({ lock })`, the `SECMEM_LOCK`
 * environment variable (read once, at first use), then `"required"`.
 *
 * @module
 */

import { readEnv } from "../../ffi/_env.ts";
import { SecretMemoryError } from "./errors.ts";
import { listed } from "./_intrinsics.ts";

/** Lock policy: whether an unlockable buffer is an error. */
export type LockPolicy = "required" | "best-effort";

/** The environment variable that sets the default lock policy. */
export const LOCK_VARIABLE = "SECMEM_LOCK";

/** Where the policy in force came from. */
export type LockPolicySource = "configure" | "SECMEM_LOCK" | "default";

/** The policy in force, where it came from, and what the variable gave. */
export interface LockPolicySettings {
  /** The default lock policy of new buffers, pools and enclaves. */
  lock: LockPolicy;
  /** Who chose it. */
  source: LockPolicySource;
  /**
   * Why `SECMEM_LOCK` could not be read, if the runtime refused (Deno
   * without `--allow-env`); the default then stays `"required"`.
   */
  environmentRefused?: string;
}

const POLICIES: readonly LockPolicy[] = ["required", "best-effort"];

let configured: LockPolicy | undefined;
let environment:
  | { lock?: LockPolicy; refused?: string; invalid?: string }
  | undefined;

function fromEnvironment(): { lock?: LockPolicy; refused?: string } {
  if (environment === undefined) {
    const { value, refused } = readEnv(LOCK_VARIABLE);
    if (value === undefined || value === "") {
      environment = refused === undefined ? {} : { refused };
    } else if (listed(POLICIES, value)) {
      environment = { lock: value as LockPolicy };
    } else {
      // Kept so that every later allocation fails the same way: a typo in
      // the switch must not quietly give the strict or the lax policy.
      environment = {
        invalid: `Cannot use ${LOCK_VARIABLE}=${
          JSON.stringify(value.slice(0, 40))
        }: expected "required" or "best-effort"; fix or unset the environment variable`,
      };
    }
  }
  if (environment.invalid !== undefined) {
    throw new SecretMemoryError("INVALID_ARGUMENT", environment.invalid);
  }
  return environment;
}

/**
 * The policy in force and its source.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` when `SECMEM_LOCK` holds
 * an unknown value (checked even when `configure` set the policy).
 */
export function lockPolicySettings(): LockPolicySettings {
  const env = fromEnvironment();
  const refused = env.refused === undefined
    ? {}
    : { environmentRefused: env.refused };
  if (configured !== undefined) {
    return { lock: configured, source: "configure", ...refused };
  }
  if (env.lock !== undefined) return { lock: env.lock, source: LOCK_VARIABLE };
  return { lock: "required", source: "default", ...refused };
}

/** The default lock policy for an allocation that names none. */
export function defaultLock(): LockPolicy {
  const fromVariable = fromEnvironment().lock;
  return configured ?? fromVariable ?? "required";
}

/**
 * For a `MEMLOCK_LIMIT` message: when the runtime refused to let
 * `SECMEM_LOCK` be read and `configure` chose nothing, the strict default
 * may be in force against the caller's wish, so say so and how to fix it.
 * Empty otherwise (and never throws: it is part of another error).
 */
export function refusedVariableNote(): string {
  if (configured !== undefined || environment?.refused === undefined) {
    return "";
  }
  return `; ${LOCK_VARIABLE} could not be read (Deno refused it: no env permission), so` +
    ` the default "required" applies: if you set ${LOCK_VARIABLE}=best-effort,` +
    ` run Deno with --allow-env=${LOCK_VARIABLE}, or call configure({ lock: "best-effort" })`;
}

/** Sets the process-wide default (`configure` checks the value first). */
export function setDefaultLock(lock: LockPolicy): void {
  configured = lock;
}

/** Forgets `configure` and the variable's reading, for tests only. */
export function resetLockPolicyForTesting(): void {
  configured = undefined;
  environment = undefined;
}
