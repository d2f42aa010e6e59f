/**
 * Views lent to outside code (src/core/_lend.ts): while out they are the
 * library's own memory, a view someone makes over their buffer is told
 * from a copy of their bytes, and a loan whose buffer was transferred away
 * stays until its range is quarantined. Over private copies of the modules
 * (`_copies.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { probeProcess } from "./_copies.ts";

const pattern = (length: number, seed: number) =>
  new Uint8Array(length).map((_, i) => (i * 37 + seed) & 0xff | 1);

test("a lent view is the library's own while out; giving it back detaches it and ends the loan", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const lent = copy.lend.lend(copy.memory, pages.data, 64);
    assert.equal(lent.view.length, 64);
    assert.equal(copy.open.isOwnSource(lent.view), true);
    assert.equal(copy.lend.lentWithin(pages.data, pages.length), true);
    assert.equal(
      copy.lend.lentWithin(pages.data + 64n, 100),
      false,
      "after it",
    );
    assert.equal(
      copy.lend.lentWithin(pages.data - 10n, 11),
      true,
      "its first byte",
    );
    const kept = lent.view;
    assert.equal(lent.giveBack(), true);
    assert.equal(kept.length, 0, "a reference kept outside reads nothing");
    assert.equal(copy.lend.lentWithin(pages.data, pages.length), false);
    assert.equal(copy.ranges.othersOpen(copy.memory), false);
  } finally {
    pages.release();
  }
});

test("a view made over a lent buffer is the library's; a copy of its bytes is the caller's", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const lent = copy.lend.lend(copy.memory, pages.data, 64);
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
  } finally {
    pages.release();
  }
});

test("a loan whose buffer was transferred away stays until its whole range is forgotten", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const lent = copy.lend.lend(copy.memory, pages.data + 128n, 64);
    const moved = (lent.view.buffer as ArrayBuffer).transfer();
    assert.equal(lent.giveBack(), false);
    assert.equal(copy.lend.lentWithin(pages.data, pages.length), true);
    // Still told as ours through a view of the probe's own.
    assert.equal(copy.open.isOwnSource(new Uint8Array(moved)), true);
    copy.lend.forgetLoansWithin(pages.data + 160n, 64);
    assert.equal(
      copy.lend.lentWithin(pages.data, pages.length),
      true,
      "only part of it",
    );
    copy.lend.forgetLoansWithin(pages.data, pages.length);
    assert.equal(copy.lend.lentWithin(pages.data, pages.length), false);
    assert.equal(
      copy.ranges.othersOpen(copy.memory),
      false,
      "its entry is closed",
    );
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
    assert.equal(copy.lend.lentWithin(pages.data, 64), false);
    lent.view.buffer.transfer(0);
  } finally {
    pages.release();
  }
});

test("a loan lent read-only is probed with its page writable for that instant", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    pages.view().set(pattern(64, 5));
    copy.memory.protect(pages.data, pages.length, "readonly");
    const lent = copy.lend.lend(copy.memory, pages.data, 64, "readonly");
    assert.equal(copy.open.isOwnSource(new Uint8Array(lent.view.buffer)), true);
    assert.equal(copy.open.isOwnSource(lent.view.slice()), false);
    assert.deepEqual(lent.view, pattern(64, 5));
    lent.giveBack();
  } finally {
    copy.memory.protect(pages.data, pages.length, "readwrite");
    pages.release();
  }
});
