/**
 * Views lent to outside code (src/core/_lend.ts): a loan lives on the open
 * mapping it falls in; while out it is the library's own memory, a view
 * someone makes over its buffer is told from a copy of its bytes, and a
 * loan whose buffer was transferred away stays on its mapping (which then
 * retires by quarantine). Over private copies of the modules
 * (`_copies.ts`); a loan on a pool arena over the library's own modules
 * and the real native layer (views must alias its pages).
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { type Copy, type Pages, probeProcess, region } from "./_copies.ts";
import { native } from "../../src/core/_native.ts";
import { assertThrowsCode } from "../_error_code.ts";
import { lend } from "../../src/core/_lend.ts";
import { Arena } from "../../src/pool/_arena.ts";
import { geometryFor } from "../../src/pool/_slot_layout.ts";

const pattern = (length: number, seed: number) =>
  new Uint8Array(length).map((_, i) => (i * 37 + seed) & 0xff | 1);

/** An open region over all of `pages`, for loans to fall in. */
function openRegion(copy: Copy, pages: Pages) {
  const r = region(copy, pages, pages.length);
  copy.open.markRegionOpen(r);
  return r;
}

test("a lent view is the library's own while out, on the mapping it falls in; giving it back detaches it and ends the loan", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  const other = process.map();
  try {
    const r = openRegion(copy, pages);
    const beside = openRegion(copy, other);
    const lent = copy.lend.lend(copy.memory, pages.data + 8n, 64);
    assert.equal(lent.view.length, 64);
    assert.equal(copy.open.isOwnSource(lent.view), true);
    assert.equal(r.loans?.has(lent.loan), true, "on its mapping");
    assert.equal(beside.loans, undefined, "not on another one");
    assert.equal(
      copy.open.openMappingAt(other.data - 10n, 11),
      undefined,
      "a range across two mappings lies in neither",
    );
    const kept = lent.view;
    assert.equal(lent.giveBack(), true);
    assert.equal(kept.length, 0, "a reference kept outside reads nothing");
    assert.equal(r.loans?.size, 0);
    copy.open.markRegionClosed(r);
    copy.open.markRegionClosed(beside);
    assert.equal(copy.ranges.othersOpen(copy.memory), false);
  } finally {
    pages.release();
    other.release();
  }
});

test("memory no open mapping holds is not lent: ACCESS_DENIED, nothing made", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const r = openRegion(copy, pages);
    // Past its end, and straddling it.
    for (
      const [address, length] of [
        [pages.data + BigInt(pages.length), 16],
        [pages.data + BigInt(pages.length) - 8n, 16],
      ] as const
    ) {
      assert.throws(
        () => copy.lend.lend(copy.memory, address, length),
        (error: { code?: string }) => error.code === "ACCESS_DENIED",
      );
    }
    copy.open.markRegionClosed(r);
    assert.throws(
      () => copy.lend.lend(copy.memory, pages.data, 16),
      (error: { code?: string }) => error.code === "ACCESS_DENIED",
      "closed",
    );
    assert.equal(r.loans, undefined);
  } finally {
    pages.release();
  }
});

test("a view made over a lent buffer is the library's; a copy of its bytes is the caller's", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const r = openRegion(copy, pages);
    const lent = copy.lend.lend(copy.memory, pages.data + 32n, 64);
    lent.view.set(pattern(64, 3));
    const { isOwnSource } = copy.open;
    // A new zero-offset view: not known by mark, told by the probe.
    const alias = new Uint8Array(lent.view.buffer);
    assert.equal(isOwnSource(alias), true);
    assert.equal(
      isOwnSource(new Uint8Array(lent.view.buffer, 0, 4)),
      true,
      "short",
    );
    assert.equal(
      isOwnSource(new Uint8Array(lent.view.buffer, 8)),
      true,
      "at an offset",
    );
    assert.equal(isOwnSource(lent.view.slice()), false, "a copy");
    assert.equal(isOwnSource(lent.view.slice(0, 4)), false, "a short copy");
    // The stream the view was lent to answers with it: left out.
    assert.equal(isOwnSource(alias, lent.loan), false);
    // The probe put every byte back.
    assert.deepEqual(lent.view, pattern(64, 3));
    lent.giveBack();
    assert.equal(isOwnSource(pattern(64, 3)), false);
    copy.open.markRegionClosed(r);
  } finally {
    pages.release();
  }
});

test("a loan whose buffer was transferred away stays on its mapping, probed only while the mapping is open", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const r = openRegion(copy, pages);
    const lent = copy.lend.lend(copy.memory, pages.data + 128n, 64);
    const moved = (lent.view.buffer as ArrayBuffer).transfer();
    assert.equal(lent.giveBack(), false);
    assert.equal(r.loans?.size, 1, "still out");
    // Still told as ours through a view of the probe's own.
    assert.equal(copy.open.isOwnSource(new Uint8Array(moved)), true);
    // Closed, its pages would fault: it is not probed, and the list every
    // copy reads has no entry for it.
    r.protection = "noaccess";
    copy.open.markRegionClosed(r);
    assert.equal(r.loans?.size, 1, "kept for the mapping's retire");
    assert.equal(
      copy.ranges.othersOpen(copy.memory),
      false,
      "its entry is closed",
    );
    const other = process.map();
    try {
      const open = openRegion(copy, other);
      assert.equal(copy.open.isOwnSource(new Uint8Array(moved)), false);
      copy.open.markRegionClosed(open);
    } finally {
      other.release();
    }
    moved.transfer(0);
  } finally {
    pages.release();
  }
});

test("aliases tells a BYOB result over the lent memory from the stream's own buffer", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const r = openRegion(copy, pages);
    const lent = copy.lend.lend(copy.memory, pages.data, 64);
    lent.view.set(pattern(64, 9));
    const { aliases } = copy.lend;
    assert.equal(
      aliases(copy.memory, pages.data, new Uint8Array(lent.view.buffer, 0, 10)),
      true,
    );
    assert.equal(aliases(copy.memory, pages.data, lent.view.slice()), false);
    const shared = new Uint8Array(new SharedArrayBuffer(64));
    shared.set(lent.view);
    assert.equal(aliases(copy.memory, pages.data, shared), false);
    const detached = new Uint8Array(64);
    detached.buffer.transfer();
    assert.equal(aliases(copy.memory, pages.data, detached), false);
    assert.equal(aliases(copy.memory, pages.data, new Uint8Array(0)), false);
    assert.deepEqual(lent.view, pattern(64, 9), "every byte put back");
    lent.settle();
    assert.equal(r.loans?.size, 0);
    lent.view.buffer.transfer(0);
    copy.open.markRegionClosed(r);
  } finally {
    pages.release();
  }
});

test("a loan on read-only pages is probed with its page writable for that instant", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    pages.view().set(pattern(64, 5));
    copy.memory.protect(pages.data, pages.length, "readonly");
    const r = region(copy, pages, pages.length, "readonly");
    copy.open.markRegionOpen(r);
    const lent = copy.lend.lend(copy.memory, pages.data, 64);
    assert.equal(copy.open.isOwnSource(new Uint8Array(lent.view.buffer)), true);
    assert.equal(copy.open.isOwnSource(lent.view.slice()), false);
    assert.deepEqual(lent.view, pattern(64, 5));
    lent.giveBack();
    copy.open.markRegionClosed(r);
  } finally {
    copy.memory.protect(pages.data, pages.length, "readwrite");
    pages.release();
  }
});

test("a range on a closed page of an arena with another page open is not lent: ACCESS_DENIED, nothing made", () => {
  const memory = native();
  const arena = Arena.map(
    memory,
    geometryFor(64, memory.pageSize),
    2,
    "best-effort",
    0,
  );
  const { slotsPerPage, pageSize } = arena.geometry;
  const slots = Array.from({ length: slotsPerPage + 1 }, () => arena.take(48));
  const [closed, open] = [slots[0], slots[slotsPerPage]];
  try {
    // The second page open, the first one closed: the arena is open.
    arena.relevel(open, 2);
    assert.equal(arena.protectionOf(closed), "noaccess");
    const onClosedPage = [
      [arena.userAddress(closed), 48],
      // Straddling the closed page and the open one.
      [arena.dataAddress + BigInt(pageSize - 16), 32],
    ] as const;
    for (const [address, length] of onClosedPage) {
      assertThrowsCode(() => lend(memory, address, length), "ACCESS_DENIED");
    }
    assert.equal(arena.loans?.size ?? 0, 0, "no loan made");
    // The open page's own slot is lent (control).
    const lent = lend(memory, arena.userAddress(open), 48);
    assert.equal(arena.loans?.has(lent.loan), true);
    assert.equal(lent.giveBack(), true);
    arena.relevel(open, 0);
  } finally {
    for (const slot of slots) arena.release(slot);
    arena.unmap();
  }
});
