/**
 * Views over guarded pages lent to code outside the library: a byte
 * stream's BYOB request, a Deno `FsFile`'s `read`/`write`. While a view is
 * out, and for good if it never comes back, its range counts as escaped:
 * a region or arena that holds it is wiped and quarantined, never unmapped,
 * so no later secret can land under a view someone kept.
 *
 * @module
 */

import type { NativeMemory } from "./_native.ts";
import {
  bufferOf,
  detachBuffer,
  isDetached,
  isShared,
  isUint8Array,
  lengthOf,
  markOwn,
  markOwnView,
} from "./_intrinsics.ts";
import { loanClosed, loanOpened, sharesFirstByte } from "./_open.ts";

interface Loan {
  readonly start: bigint;
  readonly end: bigint;
  /** The buffer lent: readable by whoever holds it while it is out. */
  readonly user: ArrayBuffer;
  /** The pages' protection while it is out. */
  readonly protection: "readonly" | "readwrite";
}

const out = new Set<Loan>();

/** A view lent out, and how to take it back. */
export interface LentView {
  /** The view to hand to outside code. */
  readonly view: Uint8Array;
  /** The loan itself, for `isOwnSource(view, except)`. */
  readonly loan: object;
  /**
   * Takes the view back: detaches it (so a reference kept outside reads
   * nothing) and ends the loan. False when outside code had transferred
   * the buffer away: the loan then stays for good, and the range will be
   * quarantined.
   */
  giveBack(): boolean;
  /** Ends the loan once the memory is known to be back (see `byobReturn`). */
  settle(): void;
}

/**
 * Lends a fresh view over `length` bytes at `address`, whose pages have
 * `protection` while it is out.
 */
export function lend(
  memory: NativeMemory,
  address: bigint,
  length: number,
  protection: "readonly" | "readwrite" = "readwrite",
): LentView {
  const buffer = markOwn(memory.view(address, length));
  const loan: Loan = {
    start: address,
    end: address + BigInt(length),
    user: buffer,
    protection,
  };
  out.add(loan);
  loanOpened(loan);
  return {
    view: markOwnView(new Uint8Array(buffer)),
    loan,
    giveBack() {
      if (!detachBuffer(buffer)) return false;
      finish(loan);
      return true;
    },
    settle() {
      finish(loan);
    },
  };
}

/**
 * Whether a view lent out (and not given back) lies in `length` bytes at
 * `address`. One comparison while nothing is lent.
 */
export function lentWithin(address: bigint, length: number): boolean {
  if (out.size === 0) return false;
  const end = address + BigInt(length);
  for (const loan of out) {
    if (loan.start < end && loan.end > address) return true;
  }
  return false;
}

/**
 * Drops the loans in `length` bytes at `address`, once that range is
 * quarantined for good: nothing can be mapped there again, so they need
 * not be checked at every later unmap.
 */
export function forgetLoansWithin(address: bigint, length: number): void {
  if (out.size === 0) return;
  const end = address + BigInt(length);
  for (const loan of out) {
    if (loan.start >= address && loan.end <= end) finish(loan);
  }
}

function finish(loan: Loan): void {
  out.delete(loan);
  loanClosed(loan);
}

/**
 * What came back from a BYOB read of a lent view: whether `value` lies over
 * the lent memory itself, or over a buffer of the stream's own. Told by the
 * same probe as `isOwnSource` (`sharesFirstByte`: one byte of ours changed
 * and put back, the stream's buffer never written); the lent pages are
 * writable, a write scope holds them.
 */
export function aliases(
  memory: NativeMemory,
  address: bigint,
  value: Uint8Array,
): boolean {
  const buffer = bufferOf(value);
  if (isShared(buffer) || isDetached(buffer as ArrayBuffer)) return false;
  const whole = new Uint8Array(buffer as ArrayBuffer);
  if (lengthOf(whole) === 0) return false;
  const probe = memory.view(address, 1);
  try {
    return sharesFirstByte(new Uint8Array(probe), 0, whole);
  } finally {
    detachBuffer(probe);
  }
}

export { isUint8Array };
