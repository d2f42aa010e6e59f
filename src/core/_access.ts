/**
 * Which protection a buffer's pages need, from the scopes open on it and the
 * level set by `protect()`. Pure bookkeeping: no system call is made here.
 *
 * @module
 */

import { SecretMemoryError } from "./errors.ts";
import type { Protection } from "./_native.ts";

const RANK: Record<Protection, number> = {
  noaccess: 0,
  readonly: 1,
  readwrite: 2,
};

/** Counts open scopes and computes the protection they need together. */
export class AccessGate {
  #base: Protection = "noaccess";
  #readers = 0;
  #writers = 0;

  /** The protection the pages must have now. */
  get required(): Protection {
    const scoped: Protection = this.#writers > 0
      ? "readwrite"
      : this.#readers > 0
      ? "readonly"
      : "noaccess";
    return RANK[scoped] >= RANK[this.#base] ? scoped : this.#base;
  }

  /** True while any read or write scope is open. */
  get inScope(): boolean {
    return this.#readers + this.#writers > 0;
  }

  /** Sets the level that holds outside scopes (`protect()`). */
  setBase(protection: Protection): void {
    this.#base = protection;
  }

  /**
   * Opens a scope of `kind`. A write is refused inside a read scope that
   * no write scope encloses: the reader was promised the bytes would not
   * change under it.
   */
  enter(kind: "read" | "write"): void {
    if (kind === "read") {
      this.#readers++;
    } else if (this.#readers > 0 && this.#writers === 0) {
      throw new SecretMemoryError(
        "ACCESS_DENIED",
        "Cannot open a write scope: a read scope is open on this buffer; write before or after reading",
      );
    } else {
      this.#writers++;
    }
  }

  /** Closes a scope of `kind`; returns what the pages need now. */
  exit(kind: "read" | "write"): Protection {
    if (kind === "write") this.#writers--;
    else this.#readers--;
    return this.required;
  }
}
