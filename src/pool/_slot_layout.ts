/**
 * Where slots and canaries sit in a pool arena. Pure arithmetic, no system
 * calls. One arena is one reservation of whole pages:
 *
 * ```text
 * | guard page | data page 0 | data page 1 | ... | guard page |
 *   PROT_NONE    locked, dontdump, wipeonfork;     PROT_NONE
 *                noaccess at rest (rest: "noaccess")
 *
 * one data page, slots of one size class:
 * | C | slack | user | C | slack | user | C | ... | C | unused tail |
 *       <-- slot (class size) -->
 * ```
 *
 * `C` is a random 16-byte canary. Every slot has one right before it and
 * one right after it (neighbours share the one between them), so a write
 * one byte past either end of a slot changes a canary. The user bytes end
 * at the slot's end, as in a SecretBuffer with placement "end": writing at
 * `address + size` hits the canary at once. The slack before them is kept
 * zero and checked with the canaries. Slots never straddle a page, so
 * opening a slot opens exactly one page.
 *
 * @module
 */

import { CANARY_SIZE } from "../core/_layout.ts";
import { clz32, floor, max, min } from "../core/_intrinsics.ts";

/** The slot sizes a pool serves; a request is rounded up to one of them. */
export const SLOT_SIZES: readonly number[] = Object.freeze(
  [16, 32, 64, 128, 256, 512, 1024, 2048],
);

/** The largest secret a pool slot holds. */
export const MAX_SLOT_SIZE = 2048;

/** The smallest page size the layout supports (every class fits a page). */
export const MIN_PAGE_SIZE = 4096;

/** The data size an arena grows to (its first is one page, then doubling). */
export const MAX_ARENA_BYTES = 1024 * 1024;

/** How one size class is laid out on pages of one size. */
export interface SlotGeometry {
  readonly slotSize: number;
  readonly pageSize: number;
  /** Slots that fit on one page with their canaries. */
  readonly slotsPerPage: number;
  /** Distance from one slot to the next: slot plus canary. */
  readonly stride: number;
}

/** The size class, as an index into `SLOT_SIZES`, that holds `size`. */
export function classIndexFor(size: number): number {
  // Classes are the powers of two from 16: ceil(log2(size)) - 4, at least 0.
  return max(0, 28 - clz32(size - 1));
}

/** The geometry of slots of `slotSize` on pages of `pageSize`. */
export function geometryFor(slotSize: number, pageSize: number): SlotGeometry {
  const stride = slotSize + CANARY_SIZE;
  return {
    slotSize,
    pageSize,
    stride,
    slotsPerPage: floor((pageSize - CANARY_SIZE) / stride),
  };
}

/**
 * Data pages of the next arena of a class that already has `arenas` of
 * them: one page, then doubling, up to `MAX_ARENA_BYTES`. Small first
 * arenas keep a pool that holds few secrets within small lock limits.
 */
export function arenaPages(arenas: number, pageSize: number): number {
  const most = max(1, floor(MAX_ARENA_BYTES / pageSize));
  return min(most, 2 ** min(arenas, 30));
}

// Pages of a slot or canary by `| 0`: counts are whole, non-negative and
// below 2^31, so truncation is the floor, with no Math.floor (replaced
// after import, answering -i for slot i's page, it laid one slot's view
// over another's) and no call on the slot's hot path.

/** Offset of slot `index` from the start of the data pages. */
export function slotOffset(geometry: SlotGeometry, index: number): number {
  const page = (index / geometry.slotsPerPage) | 0;
  const onPage = index - page * geometry.slotsPerPage;
  return page * geometry.pageSize + CANARY_SIZE + onPage * geometry.stride;
}

/** Canaries on one page: one before each slot and one after the last. */
export function canariesPerPage(geometry: SlotGeometry): number {
  return geometry.slotsPerPage + 1;
}

/**
 * Number of the canary right before slot `index`; the one after it is
 * the next number. Canaries are numbered page by page.
 */
export function canaryBefore(geometry: SlotGeometry, index: number): number {
  const page = (index / geometry.slotsPerPage) | 0;
  return index + page;
}

/** Offset of canary number `canary` from the start of the data pages. */
export function canaryOffset(geometry: SlotGeometry, canary: number): number {
  const perPage = canariesPerPage(geometry);
  const page = (canary / perPage) | 0;
  return page * geometry.pageSize + (canary - page * perPage) * geometry.stride;
}
