/**
 * The pools that keyed contexts (`hmacKey`, `aeadKey`) keep their state
 * in: one per pair of options, so that a server's thousands of contexts
 * share arenas instead of mapping one each. `purge()` and the exit wipe
 * reach them as they reach every pool.
 *
 * @module
 */

import { SecretPool, type SecretSlot } from "../pool/pool.ts";
import { checkChoice } from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { defaultLock } from "../core/_policy.ts";

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
  const l = lock === undefined
    ? defaultLock()
    : checkChoice(lock, ["required", "best-effort"], "lock");
  const name = `${r}/${l}`;
  let pool = pools.get(name);
  if (pool === undefined) {
    pool = new SecretPool({ rest: r, lock: l });
    pools.set(name, pool);
  }
  return pool.alloc(size);
}

/**
 * A keyed context's hold on its slot: dropped by `destroy()`, and found
 * gone once `purge()` wiped it behind the context's back. Internal.
 */
export class ContextSlot {
  #slot: SecretSlot | undefined;
  /** The context's class and how to make another, for messages. */
  readonly #name: string;
  readonly #remedy: string;

  constructor(slot: SecretSlot, name: string, remedy: string) {
    this.#slot = slot;
    this.#name = name;
    this.#remedy = remedy;
  }

  /** The slot while it is live; undefined once destroyed or purged. */
  live(): SecretSlot | undefined {
    const slot = this.#slot;
    if (slot !== undefined && slot.state === "destroyed") {
      // purge() wiped it behind our back.
      this.#slot = undefined;
      return undefined;
    }
    return slot;
  }

  /** The live slot; `DESTROYED`, naming `action`, otherwise. */
  alive(action: string): SecretSlot {
    const slot = this.live();
    if (slot !== undefined) return slot;
    throw new SecretMemoryError(
      "DESTROYED",
      `Cannot ${action}: the ${this.#name} was destroyed; make a new one with ${this.#remedy}`,
    );
  }

  /** Wipes and frees the slot; safe to call again. */
  destroy(): void {
    const slot = this.#slot;
    if (slot === undefined) return;
    this.#slot = undefined;
    slot.destroy();
  }
}
