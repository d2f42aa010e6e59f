/**
 * Views over guarded pages lent to code outside the library: a byte
 * stream's BYOB request, a Deno `FsFile`'s `read`/`write`. A loan lives on
 * the mapping it falls in (`OpenMapping.loans`): while a view is out, and
 * for good if it never comes back, the mapping counts as escaped, and is
 * wiped and quarantined, never unmapped, so no later secret can land
 * under a view someone kept.
 *
 * @module
 */

import type { NativeMemory } from "./_native.ts";
import { SecretMemoryError } from "./errors.ts";
import {
  bufferOf,
  byteOffsetOf,
  Bytes,
  detachBuffer,
  enlist,
  isDetached,
  isShared,
  lengthOf,
  markOwn,
  markOwnView,
  Sets,
  strike,
} from "./_intrinsics.ts";
import { type Loan, openMappingAt, sharesFirstByte } from "./_open.ts";

/** A view lent out, and how to take it back. */
export interface LentView {
  /** The view to hand to outside code. */
  readonly view: Uint8Array;
  /** The loan itself, for `isOwnSource(view, except)`. */
  readonly loan: Loan;
  /**
   * Takes the view back: detaches it (so a reference kept outside reads
   * nothing) and ends the loan. False when outside code had transferred
   * the buffer away: the loan then stays for good, and the mapping will be
   * quarantined.
   */
  giveBack(): boolean;
  /** Ends the loan once the memory is known to be back (see `aliases`). */
  settle(): void;
}

/**
 * Lends a fresh view over `length` bytes at `address`, which must lie in
 * a mapping of this library whose pages are open (a scope holds them).
 * @throws {SecretMemoryError} `ACCESS_DENIED` when no open mapping holds
 * them: the view would fault, and no mapping would see it at retire.
 */
export function lend(
  memory: NativeMemory,
  address: bigint,
  length: number,
): LentView {
  const mapping = openMappingAt(address, length);
  if (mapping === undefined) {
    throw new SecretMemoryError(
      "ACCESS_DENIED",
      `Cannot lend ${length} bytes: no open guarded buffer holds them;` +
        " open the buffer in a scope first",
    );
  }
  const buffer = markOwn(memory.view(address, length));
  const loan: Loan = { buffer, address, size: length };
  const loans = mapping.loans ??= new Sets();
  enlist(loans, loan);
  return {
    view: markOwnView(new Bytes(buffer)),
    loan,
    giveBack() {
      if (!detachBuffer(buffer)) return false;
      strike(loans, loan);
      return true;
    },
    settle() {
      strike(loans, loan);
    },
  };
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
  // A small heap array asked for its buffer moves its bytes out and
  // leaves the old copy behind (see `isOwnView`): a view with bytes from
  // its buffer's first one is probed as it is, and asked for its buffer
  // only once it proved to be over our memory (no heap array can be), to
  // refuse a shared one whose bytes another thread moved in step.
  const direct = lengthOf(value) > 0 && byteOffsetOf(value) === 0;
  let whole = value;
  if (!direct) {
    const buffer = bufferOf(value);
    if (isShared(buffer) || isDetached(buffer as ArrayBuffer)) return false;
    whole = new Bytes(buffer as ArrayBuffer);
    if (lengthOf(whole) === 0) return false;
  }
  const probe = memory.view(address, 1);
  try {
    if (!sharesFirstByte(new Bytes(probe), 0, whole)) return false;
  } finally {
    detachBuffer(probe);
  }
  return !direct || !isShared(bufferOf(value));
}
