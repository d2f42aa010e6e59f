/**
 * The pools that keyed contexts (`hmacKey`, `aeadKey`) keep their state
 * in: one per pair of options, so that a server's thousands of contexts
 * share arenas instead of mapping one each. `purge()` and the exit wipe
 * reach them as they reach every pool.
 *
 * @module
 */

import { SecretPool, type SecretSlot } from "../pool/pool.ts";
import { checkChoice, checkLock } from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { keep, lookUp } from "../core/_intrinsics.ts";

/** The pool options a context takes. */
export interface ContextPoolOptions {
  /**
   * `"noaccess"` (default): the context's page is inaccessible between
   * calls, and each call opens and closes it (two system calls).
   * `"readwrite"`: it stays open, so a call makes no system call, at the
   * price of the at-rest fence. Locking, dump exclusion, wipe-on-fork,
   * guard pages and canaries apply either way.
   */
  rest?: "noaccess" | "readwrite";
  /**
   * `"required"` or `"best-effort"`; unset: the process-wide policy as it
   * stands when the context is made.
   */
  lock?: "required" | "best-effort";
}

const pools = new Map<string, SecretPool>();

/**
 * A zeroed slot of `size` bytes in the pool for `rest` and `lock`
 * (values from checked options; checked again here).
 */
export function contextSlot(
  size: number,
  rest: unknown,
  lock: unknown,
): SecretSlot {
  const r = rest === undefined
    ? "noaccess"
    : checkChoice(rest, ["noaccess", "readwrite"], "rest");
  // The policy is resolved now, not when the pool was first made: a later
  // configure() applies to the contexts made after it.
  const l = checkLock(lock);
  const name = `${r}/${l}`;
  let pool = lookUp(pools, name);
  if (pool === undefined) {
    pool = new SecretPool({ rest: r, lock: l });
    keep(pools, name, pool);
  }
  return pool.alloc(size);
}

/**
 * A keyed context's slot while it is live; `DESTROYED`, naming the context
 * (`name`) and how to make another (`maker`), once `destroy()` or `purge()`
 * wiped it. Internal.
 */
export function liveSlot(
  slot: SecretSlot,
  action: string,
  name: string,
  maker: string,
): SecretSlot {
  if (slot.state !== "destroyed") return slot;
  throw new SecretMemoryError(
    "DESTROYED",
    `Cannot ${action}: the ${name} was destroyed; make a new one with ${maker}`,
  );
}
