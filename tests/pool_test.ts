/**
 * What only a pool does: size classes, shared pages, whole-slot wiping,
 * canaries between neighbours, spare arenas, pool-wide destroy and purge,
 * and the arenas' flags and guard pages as /proc/self/smaps shows them.
 *
 * @module
 */

import { purge, SecretBuffer, SecretPool, type SecretSlot } from "../mod.ts";
import { native } from "../src/core/_native.ts";
import {
  type MapEntry,
  mappingAround,
  parseMaps,
  readProcText,
} from "../src/doctor/_procfs.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

function classStats(pool: SecretPool, slotSize: number) {
  return pool.stats().classes.find((c) => c.slotSize === slotSize)!;
}

test("sizes round up to a class; 1 and 2048 are served, 0 and 2049 refused", () => {
  using pool = new SecretPool();
  using one = pool.alloc(1);
  using odd = pool.alloc(33);
  using largest = pool.random(2048);
  assert.deepEqual(classStats(pool, 16).liveSlots, 1);
  assert.deepEqual(classStats(pool, 64).liveSlots, 1);
  assert.deepEqual(classStats(pool, 2048).liveSlots, 1);
  assert.deepEqual([one.size, odd.size, largest.size], [1, 33, 2048]);
  const error = assertThrowsCode(() => pool.alloc(2049), "INVALID_SIZE");
  assert(error.message.includes("SecretBuffer"), error.message);
  assertThrowsCode(() => pool.alloc(0), "INVALID_SIZE");
  assertThrowsCode(() => pool.from(new Uint8Array(0)), "INVALID_SIZE");
  assert.deepEqual(pool.stats().liveSlots, 3);
});

test("bad pool options are INVALID_ARGUMENT", () => {
  assertThrowsCode(
    () => new SecretPool({ rest: "readonly" as "noaccess" }),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(
    () => new SecretPool({ lock: "never" as "required" }),
    "INVALID_ARGUMENT",
  );
  assertThrowsCode(
    () => new SecretPool("fast" as unknown as undefined),
    "INVALID_ARGUMENT",
  );
});

test("a scope opens its page: neighbours on it open too, other pages stay closed", () => {
  using pool = new SecretPool();
  const slots = Array.from({ length: 200 }, () => pool.alloc(32));
  const page = (slot: SecretSlot) => slot.address / BigInt(native().pageSize);
  const first = slots[0];
  const neighbour = slots.find((s) => s !== first && page(s) === page(first))!;
  const elsewhere = slots.find((s) => page(s) !== page(first))!;
  first.read(() => {
    assert.deepEqual(neighbour.state, "readonly");
    assert.deepEqual(elsewhere.state, "noaccess");
    neighbour.write(() => assert.deepEqual(first.state, "readwrite"));
    assert.deepEqual(first.state, "readonly");
  });
  assert.deepEqual(neighbour.state, "noaccess");
  for (const slot of slots) slot.destroy();
});

test("destroy wipes the whole slot and the next occupant starts from zero", () => {
  using pool = new SecretPool({ rest: "readwrite" });
  const secret = pool.from(new Uint8Array(32).fill(0xa5));
  const address = secret.address;
  // The pool rests readwrite, so the freed bytes can be read back natively.
  const raw = new Uint8Array(native().view(address, 32));
  assert(raw.every((b) => b === 0xa5));
  secret.destroy();
  assert(raw.every((b) => b === 0), "wiped at destroy");
  using next = pool.alloc(20);
  assert.deepEqual(next.address, address + 12n, "same slot, bytes at its end");
  assert(next.read((bytes) => bytes.every((b) => b === 0)));
});

test("a write into the slack before the bytes is caught like a canary", () => {
  using pool = new SecretPool();
  const secret = pool.from(new Uint8Array([1, 2, 3]));
  secret.protect("readwrite");
  const slack = new Uint8Array(native().view(secret.address - 1n, 1));
  slack[0] = 0x5a;
  secret.protect("noaccess");
  assertThrowsCode(() => secret.destroy(), "CANARY_CORRUPTED");
  assert.deepEqual(pool.stats().liveSlots, 0);
});

test("a corrupted canary is restored, so the neighbour it guards is not blamed", () => {
  using pool = new SecretPool();
  const left = pool.alloc(32);
  const right = pool.alloc(32);
  const leftAddress = left.address;
  assert.deepEqual(right.address, leftAddress + 48n, "adjacent slots");
  left.protect("readwrite");
  new Uint8Array(native().view(left.address + 32n, 1))[0] ^= 0xff;
  left.protect("noaccess");
  assertThrowsCode(() => right.read(() => 0), "CANARY_CORRUPTED");
  assertThrowsCode(() => left.destroy(), "CANARY_CORRUPTED");
  right.destroy();
  // Both slots go back to use, and both pass their canary checks.
  const again = [pool.alloc(32), pool.alloc(32)];
  assert.deepEqual(
    again.map((slot) => slot.address).sort(),
    [leftAddress, leftAddress + 48n],
  );
  for (const slot of again) slot.destroy();
});

test("empty arenas are unmapped, keeping one spare per class (the smallest)", () => {
  using pool = new SecretPool();
  using kept = pool.alloc(16);
  const slots = Array.from({ length: 5000 }, () => pool.alloc(32));
  const peak = classStats(pool, 32);
  assert(peak.arenas >= 5, `a burst maps growing arenas (${peak.arenas})`);
  for (const slot of slots) slot.destroy();
  const after = classStats(pool, 32);
  assert.deepEqual(after.arenas, 1);
  assert.deepEqual(after.liveSlots, 0);
  const { pageSize } = native();
  assert.deepEqual(
    pool.stats().lockedBytes,
    2 * pageSize,
    "one page for the 16-byte class, the one-page spare for 32",
  );
  assert.deepEqual(kept.state, "noaccess");
});

test("pool.destroy wipes everything; every handle and the pool say DESTROYED", () => {
  const pool = new SecretPool();
  const a = pool.random(32);
  const b = pool.from(new Uint8Array([4, 5, 6]));
  let kept: Uint8Array | undefined;
  b.read((bytes) => {
    kept = bytes;
  });
  assert.deepEqual(pool.destroy(), { destroyed: 2, corrupted: 0 });
  assert.deepEqual(kept!.length, 0, "views detached");
  assert.deepEqual(a.state, "destroyed");
  assertThrowsCode(() => b.read(() => 0), "DESTROYED");
  assertThrowsCode(() => pool.alloc(8), "DESTROYED");
  assert.deepEqual(pool.stats().mappedBytes, 0);
  assert.deepEqual(pool.destroy(), { destroyed: 0, corrupted: 0 });
  a.destroy();
  assert.deepEqual(String(pool), "SecretPool(0 slots, destroyed)");
});

test("purge() reaches pool slots; the pool stays usable", () => {
  const pool = new SecretPool();
  const slot = pool.random(16);
  const { destroyed } = purge();
  assert(destroyed >= 1);
  assert.deepEqual(slot.state, "destroyed");
  assert.deepEqual(pool.stats().arenas, 0);
  using again = pool.alloc(16);
  assert.deepEqual(again.state, "noaccess");
  pool.destroy();
});

test("equals works across pools and with a SecretBuffer", async () => {
  const { SecretBuffer } = await import("../mod.ts");
  using a = new SecretPool();
  using b = new SecretPool({ rest: "readwrite" });
  using x = a.from(new Uint8Array([1, 2, 3]));
  using y = b.from(new Uint8Array([1, 2, 3]));
  using z = SecretBuffer.from(new Uint8Array([1, 2, 3]));
  assert(x.equals(y) && y.equals(x) && x.equals(z));
  assert.deepEqual(x.state, "noaccess");
});

test(
  "smaps: every arena's data pages are lo dd wf, guarded on both sides",
  () => {
    using pool = new SecretPool();
    const slots = [
      ...Array.from({ length: 600 }, () => pool.alloc(64)),
      pool.alloc(16),
      pool.alloc(2048),
    ];
    const { pageSize } = native();
    const entries = parseMaps(readProcText("/proc/self/smaps"));
    const around = (address: bigint) => {
      const i = entries.findIndex((e) => e.start <= address && address < e.end);
      const pick = (j: number): MapEntry | undefined => entries[j];
      return { before: pick(i - 1), at: pick(i), after: pick(i + 1) };
    };
    const seen = new Set<bigint>();
    for (const slot of slots) {
      const { before, at, after } = around(slot.address);
      assert(at !== undefined, "the slot is mapped");
      if (seen.has(at.start)) continue;
      seen.add(at.start);
      for (const flag of ["lo", "dd", "wf"]) {
        assert(at.flags.includes(flag), `${flag} in ${at.flags.join(" ")}`);
      }
      assert.deepEqual(at.perms, "---p", "noaccess at rest");
      for (const guard of [before, after]) {
        assert(guard !== undefined);
        assert.deepEqual(guard.perms, "---p");
        assert(!guard.flags.includes("lo"), "guard pages are not backed");
      }
      assert.deepEqual(before!.end, at.start);
      assert.deepEqual(after!.start, at.end);
      assert(after!.end - after!.start >= BigInt(pageSize));
    }
    const arenas = pool.stats().arenas;
    assert.deepEqual(seen.size, arenas, "one data mapping per arena");
    assert(arenas >= 5);
    // Opening one slot opens one page, and only while the scope lasts.
    slots[0].read(() => {
      const { at } = mappingAround(slots[0].address);
      assert.deepEqual(at!.perms, "r--p");
      assert.deepEqual(at!.end - at!.start, BigInt(pageSize));
      assert(at!.flags.includes("lo") && at!.flags.includes("dd"));
    });
    assert.deepEqual(mappingAround(slots[0].address).at!.perms, "---p");
    for (const slot of slots) slot.destroy();
  },
  { skip: linuxOnly },
);

test("SecretBuffer.equals compares with a pool slot in both directions", () => {
  using pool = new SecretPool();
  const slot = pool.from(new Uint8Array([4, 5, 6]));
  using same = SecretBuffer.from(new Uint8Array([4, 5, 6]));
  using other = SecretBuffer.from(new Uint8Array([4, 5, 7]));
  assert(same.equals(slot), "buffer equals slot");
  assert(!other.equals(slot), "buffer differs from slot");
  assert(slot.equals(same), "slot equals buffer");
  slot.destroy();
  assertThrowsCode(() => same.equals(slot), "DESTROYED");
});
